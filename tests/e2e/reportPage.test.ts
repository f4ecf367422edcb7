/**
 * The runs report (`flowline run visualize`) in Chromium: it takes the light or dark scheme of the
 * browser on its own, and VS Code's theme colours when shown in a webview (which defines them).
 */

import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium, ROOT } from "./codeServer";

let browser: Browser;
let folder: string;
let report: string;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), "flowline-report-"));
  const env = { ...process.env, FLOWLINE_HOME: join(folder, "home") };
  const flowline = (...args: string[]): string =>
    execFileSync(join(ROOT, ".venv", "bin", "flowline"), args, { env, encoding: "utf-8" });
  const batch = join(ROOT, "tests", "server", "conformance_batch");
  flowline("run", "create", "--flow", join(batch, "classify"), "--data", join(batch, "data.jsonl"), "--name", "r1");
  report = flowline("run", "visualize", "--names", "r1", "--html-path", join(folder, "report.html")).trim();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  rmSync(folder, { recursive: true, force: true });
});

async function background(scheme: "light" | "dark", vscodeBackground?: string): Promise<string> {
  const page = await browser.newPage({ colorScheme: scheme });
  try {
    await page.goto(pathToFileURL(report).href);
    return await page.evaluate((color) => {
      if (color) {
        document.documentElement.style.setProperty("--vscode-editor-background", color);
      }
      return getComputedStyle(document.body).backgroundColor;
    }, vscodeBackground);
  } finally {
    await page.close();
  }
}

test("a light browser shows a light report", async () => {
  assert.equal(await background("light"), "rgb(255, 255, 255)");
});

test("a dark browser shows a dark report", async () => {
  assert.equal(await background("dark"), "rgb(13, 17, 23)");
});

test("in a VS Code webview the theme's colours win", async () => {
  assert.equal(await background("light", "#1e1e1e"), "rgb(30, 30, 30)");
});
