/**
 * Starts real VS Code the way `make studio` does (code-server with the packed extension, the local
 * model) on a copy of samples/, and opens it in Debian's Chromium through playwright-core.
 * Everything lives in a fresh temporary folder per session.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

/** The repository: the nearest folder above this file that has package.json (compiled or not). */
export const ROOT = ((): string => {
  let folder = __dirname;
  while (!existsSync(join(folder, "package.json")) && dirname(folder) !== folder) {
    folder = dirname(folder);
  }
  return folder;
})();
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
  /** Closes the browser, stops VS Code and the local model, removes the temporary folder. */
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

/** Debian's Chromium, headless, with nothing that reaches beyond this machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

/**
 * `make studio`'s script (scripts/studio.sh) on free ports, with its state, the workspace (a copy
 * of samples/) and FLOWLINE_HOME in a temporary folder; the local model starts with it. Resolves
 * with a browser page ready to load the workbench.
 */
export async function startSession(): Promise<Session> {
  const base = mkdtempSync(join(tmpdir(), "flowline-e2e-"));
  const [state, workspace, home] = ["studio", "samples", "flowline-home"].map((name) => join(base, name));
  mkdirSync(state, { recursive: true });
  cpSync(join(ROOT, "samples"), workspace, { recursive: true });
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, FLOWLINE_HOME: home, FLOWLINE_STUDIO_PORT: String(port),
    FLOWLINE_STUDIO_DIR: state,
    FLOWLINE_STUDIO_WORKSPACE: workspace, FLOWLINE_LOCAL_LLM_PORT: String(await freePort()) };
  delete env.FLOWLINE_NO_LOCAL_LLM;
  const studio = spawn("bash", [join(ROOT, "scripts", "studio.sh")], { env, stdio: ["ignore", "pipe", "pipe"],
    detached: true });
  const stop = () => {
    try {
      process.kill(-(studio.pid as number), "SIGTERM");
    } catch {
      // already gone
    }
    execFileSync(join(ROOT, ".venv", "bin", "flowline"), ["local-llm", "stop"], { env, stdio: "ignore" });
  };
  try {
    await waitForOutput(studio, /HTTP server listening/, 180_000);
  } catch (error) {
    stop();
    throw error;
  }
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    page, workspace, home, url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`,
    async close() {
      await browser.close();
      stop();
      // VS Code's logs (the Flowline output among them) stay next to the screenshots.
      cpSync(join(state, "user-data", "logs"), join(SCREENSHOTS, "logs"), { recursive: true });
      rmSync(base, { recursive: true, force: true });
    },
  };
}

