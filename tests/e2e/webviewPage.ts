/** A webview page of the extension on its own in Chromium, with a stand-in for VS Code's webview API. */

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { type PageOptions, pageHtml } from "../../extension/src/pageHtml";
import { ROOT } from "./codeServer";

/**
 * Loads dist/webview/<name>.js and its styles (base.css, then `styles`, then its own, as webviewHtml
 * orders them); what the page posts collects in `window.sent`.
 */
export async function openWebviewPage(browser: Browser, name: string, styles: string[] = [],
  viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage(viewport ? { viewport } : {});
  await page.setContent('<!DOCTYPE html><html><body><div id="app"></div></body></html>');
  await page.evaluate(() => {
    const w = window as unknown as { sent: unknown[]; acquireVsCodeApi: () => unknown };
    w.sent = [];
    let saved: unknown;
    w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.sent.push(m), getState: () => saved,
      setState: (s: unknown) => { saved = s; } });
  });
  for (const css of ["base", ...styles, name]) {
    await page.addStyleTag({ path: join(ROOT, "dist", "webview", `${css}.css`) });
  }
  await page.addScriptTag({ path: join(ROOT, "dist", "webview", `${name}.js`) });
  return page;
}

/** What the page has posted so far. */
export async function sentBy<T>(page: Page): Promise<T[]> {
  return page.evaluate(() => (window as unknown as { sent: unknown[] }).sent) as Promise<T[]>;
}

/** Where a page under its CSP is served from: the webview's own origin, and the origin its files load from. */
const PAGE_ORIGIN = "https://webview.flowline.test";
const ASSETS = "https://assets.flowline.test";
const TYPES: Record<string, string> = { js: "text/javascript", css: "text/css", map: "application/json" };
const violations = new WeakMap<Page, string[]>();

/**
 * Loads the page `name` as the extension writes it for VS Code (pageHtml.ts: its Content-Security-Policy, the
 * script with its nonce), its files from another origin, as a webview's are; `css` is served as one more
 * stylesheet, last. The stand-in for VS Code's webview API keeps the page's state (getState/setState, as JSON) in
 * sessionStorage, so it outlives a reload as VS Code keeps it; what the page posts collects in `window.sent`
 * (afresh after a reload). Every CSP violation is kept: `takeCspViolations`.
 */
export async function openWebviewPageUnderCsp(browser: Browser, name: string, title: string, options: PageOptions,
  viewport: { width: number; height: number }, css = ""): Promise<Page> {
  const page = await browser.newPage({ viewport });
  const seen: string[] = [];
  violations.set(page, seen);
  page.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) {
      seen.push(message.text());
    }
  });
  await page.exposeFunction("cspViolation", (text: string) => seen.push(text));
  await page.addInitScript(() => {
    const w = window as unknown as { sent: unknown[]; acquireVsCodeApi(): unknown; cspViolation(text: string): void };
    document.addEventListener("securitypolicyviolation", (event) => void w.cspViolation(`${event.effectiveDirective} `
      + `refused ${event.blockedURI || "inline code"} (${event.sourceFile}:${event.lineNumber})`));
    w.sent = [];
    w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.sent.push(m),
      getState: () => JSON.parse(sessionStorage.getItem("vscode-state") ?? "null") ?? undefined,
      setState: (s: unknown) => sessionStorage.setItem("vscode-state", JSON.stringify(s)) });
  });
  const nonce = randomBytes(16).toString("base64");
  const html = pageHtml({ cspSource: ASSETS, nonce, asset: (file) => `${ASSETS}/${file}` }, name, title, options)
    .replace("</head>", `<link rel="stylesheet" href="${ASSETS}/page-test.css">\n</head>`);
  await page.route(`${PAGE_ORIGIN}/**`, (route) => route.request().url() === `${PAGE_ORIGIN}/`
    ? route.fulfill({ contentType: "text/html", body: html }) : route.fulfill({ status: 404 }));
  await page.route(`${ASSETS}/**`, (route) => {
    const file = new URL(route.request().url()).pathname.slice(1);
    if (file === "page-test.css") {
      return route.fulfill({ contentType: "text/css", body: css });
    }
    const path = join(ROOT, "dist", "webview", file);
    return /^[\w.-]+$/.test(file) && existsSync(path)
      ? route.fulfill({ contentType: TYPES[file.split(".").pop() ?? ""], body: readFileSync(path) })
      : route.fulfill({ status: 404 });
  });
  await page.goto(`${PAGE_ORIGIN}/`);
  return page;
}

/** The CSP violations of a page opened with `openWebviewPageUnderCsp` since the last call (reloads included). */
export function takeCspViolations(page: Page): string[] {
  return violations.get(page)?.splice(0) ?? [];
}
