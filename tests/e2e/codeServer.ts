/**
 * Starts real VS Code (code-server, installed by scripts/install-code-server.sh) with the packed
 * extension installed and a copy of samples/ as the workspace, and opens it in Debian's Chromium
 * through playwright-core. Everything lives in a fresh temporary folder per session.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

export const ROOT = resolve(__dirname, "..", "..", "..");
export const SCREENSHOTS = join(ROOT, "tests", "e2e", "screenshots");

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface Session {
  page: Page;
  workspace: string;
  home: string;
  url: string;
  /** Time from loading the workbench page to the page being ready, for the record. */
  close(): Promise<void>;
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((done, fail) => {
    let seen = "";
    const timer = setTimeout(() => fail(new Error(`code-server did not start in ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const read = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.once("exit", (code) => { clearTimeout(timer); fail(new Error(`code-server exited (${code}):\n${seen}`)); });
  });
}

/** code-server with the extension, the samples and a browser page on the workbench. */
export async function startSession(options: { settings?: Record<string, unknown> } = {}): Promise<Session> {
  const codeServer = execFileSync("bash", [join(ROOT, "scripts", "install-code-server.sh")], { encoding: "utf-8" })
    .trim().split("\n").pop() as string;
  const vsix = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf-8")).version as string;
  const base = mkdtempSync(join(tmpdir(), "flowline-e2e-"));
  const [userData, extensions, workspace, home] = ["user-data", "extensions", "samples", "flowline-home"]
    .map((name) => join(base, name));
  mkdirSync(join(userData, "User"), { recursive: true });
  cpSync(join(ROOT, "samples"), workspace, { recursive: true });
  writeFileSync(join(userData, "User", "settings.json"), JSON.stringify({
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "workbench.tips.enabled": false,
    "extensions.ignoreRecommendations": true,
    "flowline.python.interpreterPath": join(ROOT, ".venv", "bin", "python"),
    ...options.settings,
  }, null, 2));
  const config = join(base, "config.yaml");
  writeFileSync(config, "auth: none\n");
  const common = ["--config", config, "--user-data-dir", userData, "--extensions-dir", extensions];
  execFileSync(codeServer, [...common, "--install-extension", join(ROOT, `flowline-${vsix}.vsix`)], { stdio: "ignore" });
  const port = await freePort();
  const env = { ...process.env, FLOWLINE_HOME: home };
  const server = spawn(codeServer, [...common, "--auth", "none", "--bind-addr", `127.0.0.1:${port}`,
    "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", workspace],
  { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  await waitForOutput(server, /HTTP server listening/, 60_000);
  const browser: Browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    page, workspace, home, url,
    async close() {
      await browser.close();
      try {
        process.kill(-(server.pid as number), "SIGTERM");
      } catch {
        // already gone
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** The local model (llama.cpp + SmolLM2) on a free port, with the connection `local` in `home`. */
export async function startLocalModel(home: string): Promise<{ stop(): Promise<void> }> {
  const flowline = join(ROOT, ".venv", "bin", "flowline");
  const env = { ...process.env, FLOWLINE_HOME: home };
  execFileSync(flowline, ["local-llm", "start", "--port", String(await freePort())], { env, stdio: "inherit" });
  return {
    async stop() {
      execFileSync(flowline, ["local-llm", "stop"], { env, stdio: "inherit" });
    },
  };
}
