/**
 * "Flowline: Serve Flow" and "Flowline: Stop Serving". An endpoint is `flowline flow serve` run by
 * the extension's interpreter in a child process, shown in a terminal named after the flow through a
 * pseudo-terminal, so the extension reads the server's ready line (its URL) from the same output
 * the user sees. One endpoint per flow folder; closing its terminal stops it too.
 */

import * as cp from "child_process";
import * as net from "net";
import * as path from "path";
import * as vscode from "vscode";
import { flowUri, isFlowFile, noFlow } from "./commands";
import type { FlowlineServer } from "./python";
import { reportError } from "./report";
import { commandLine, forTerminal, lastLine, LineReader, parseReadyLine, type Ready, serveArgs,
  SERVE_HOST, terminalName } from "./serveModel";

/** The context key that says an endpoint runs (the palette shows "Stop Serving" then). */
const SERVING = "flowline.serving";
/** How long a server may take to say it is ready (it loads the flow's tools first). */
const READY_LIMIT_MS = 120_000;
/** How long a stopped server may finish its in-flight requests before it is killed. */
const STOP_GRACE_MS = 15_000;
const OPEN_IN_BROWSER = "Open in Browser";
const STOP = "Stop Serving";

/** A port nobody listens on now (the server binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, SERVE_HOST, () => {
      const address = probe.address();
      probe.close(() => typeof address === "object" && address ? resolve(address.port)
        : reject(new Error("no free port")));
    });
  });
}

/** One flow's endpoint: its server process, and the pseudo-terminal that shows its output. */
class Endpoint implements vscode.Pseudoterminal {
  private readonly written = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.written.event;
  private readonly closed = new vscode.EventEmitter<number | void>();
  readonly onDidClose = this.closed.event;
  private child: cp.ChildProcess | undefined;
  private exited = false;
  private output = "";
  private announce!: (ready: Ready) => void;
  private fail!: (error: Error) => void;
  /** Resolves with the ready line's endpoint; rejects when the server ends (or stays silent) first. */
  readonly ready = new Promise<Ready>((resolve, reject) => {
    this.announce = resolve;
    this.fail = reject;
  });
  private readonly ended = new vscode.EventEmitter<void>();
  /** Fires once the server process has ended (for any reason). */
  readonly onDidEnd = this.ended.event;
  terminal: vscode.Terminal | undefined;

  constructor(readonly folder: string, private readonly python: string, private readonly args: string[],
              private readonly env: NodeJS.ProcessEnv, private readonly log: vscode.LogOutputChannel) {
    this.ready.catch(() => undefined);  // whoever awaits it reports the failure; none is left unhandled
  }

  /** VS Code opened the terminal: the server starts now (output written before this would be lost). */
  open(): void {
    this.write(`${commandLine(this.python, this.args)}\n`);
    const child = cp.spawn(this.python, this.args, { cwd: this.folder, env: this.env });
    this.child = child;
    const timer = setTimeout(() => this.fail(new Error(`The endpoint did not say it was ready within `
      + `${READY_LIMIT_MS / 1000} s (see the terminal "${terminalName(this.folder)}").`)), READY_LIMIT_MS);
    const lines = new LineReader();
    const read = (chunk: Buffer): void => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-4000);
      this.write(text);
      for (const line of lines.push(text)) {
        const ready = parseReadyLine(line);
        if (ready) {
          clearTimeout(timer);
          this.announce(ready);
        }
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.on("error", (error) => {
      clearTimeout(timer);
      this.fail(new Error(`${this.python} could not be started: ${error.message}`));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      this.exited = true;
      const how = signal ? `was stopped (${signal})` : `exited with code ${code}`;
      this.log.info(`The endpoint of ${this.folder} ${how}.`);
      this.fail(new Error(`The endpoint of ${path.basename(this.folder)} ${how} before it was ready: `
        + (lastLine(this.output) || "it printed nothing.")));
      this.write(`\nThe endpoint ${how}. Press any key to close this terminal.\n`);
      this.ended.fire();
    });
  }

  private write(text: string): void {
    this.written.fire(forTerminal(text));
  }

  /** Ctrl+C in the terminal stops the server as in a shell; after it ended, any key closes the terminal. */
  handleInput(data: string): void {
    if (this.exited) {
      this.closed.fire();
    } else if (data.includes("\x03")) {
      this.child?.kill("SIGINT");
    }
  }

  /** The user closed the terminal: the server stops with it. */
  close(): void {
    void this.stop();
  }

  /** Stops the server (SIGTERM: it finishes in-flight requests) and closes the terminal once it ended. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && !this.exited) {
      const ended = new Promise<void>((resolve) => this.onDidEnd(() => resolve()));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await ended;
      clearTimeout(killer);
    }
    this.closed.fire();
  }

  dispose(): void {
    if (this.child && !this.exited) {
      this.child.kill("SIGTERM");
    }
    this.written.dispose();
    this.closed.dispose();
    this.ended.dispose();
  }
}

export class Serving implements vscode.Disposable {
  /** The running endpoints by flow folder. */
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(private readonly server: FlowlineServer, private readonly log: vscode.LogOutputChannel) {}

  /** The flow folder a command is for: its argument, the active text editor's or the visual editor's flow. */
  private flowFolder(argument: unknown): string | undefined {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = flowUri(argument)
      ?? (tab instanceof vscode.TabInputCustom && isFlowFile(tab.uri.fsPath) ? tab.uri.toString() : undefined);
    return uri ? path.dirname(vscode.Uri.parse(uri).fsPath) : undefined;
  }

  /**
   * Serves the flow (argument or active editor) on a free port of 127.0.0.1; once the server says
   * it is ready, opens its test page in the Simple Browser and shows its URL. A flow that is
   * served already is shown again. Resolves with the endpoint's URL (undefined when none started).
   */
  async serve(argument?: unknown): Promise<string | undefined> {
    const folder = this.flowFolder(argument);
    if (!folder) {
      return noFlow();
    }
    try {
      const running = this.endpoints.get(folder);
      if (running) {
        running.terminal?.show(true);
        return this.announce(await running.ready, running);
      }
      const python = this.server.interpreter?.path;
      if (!python) {
        throw new Error("No Python interpreter is set up yet (see the Flowline output).");
      }
      const flowFile = vscode.workspace.textDocuments.find((d) => isFlowFile(d.uri.fsPath)
        && path.dirname(d.uri.fsPath) === folder);
      if (flowFile?.isDirty) {
        await flowFile.save();  // the server reads the flow from disk
      }
      const args = serveArgs({ folder, port: await freePort() });
      const endpoint = new Endpoint(folder, python, args, this.server.environment(), this.log);
      this.endpoints.set(folder, endpoint);
      void this.update();
      endpoint.onDidEnd(() => this.forget(folder, endpoint));
      endpoint.onDidClose(() => this.forget(folder, endpoint));
      this.log.info(`Serving ${folder}: ${commandLine(python, args)}`);
      endpoint.terminal = vscode.window.createTerminal({ name: terminalName(folder), pty: endpoint,
        iconPath: new vscode.ThemeIcon("globe") });
      endpoint.terminal.show(true);
      const ready = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window,
        title: `Flowline: starting the endpoint of ${path.basename(folder)}` }, () => endpoint.ready);
      await vscode.commands.executeCommand("simpleBrowser.show", ready.page);
      return this.announce(ready, endpoint);
    } catch (error) {
      reportError(this.log, error);
      return undefined;
    }
  }

  /** The endpoint's URL in a notification with "Open in Browser" and "Stop Serving" (not awaited). */
  private announce(ready: Ready, endpoint: Endpoint): string {
    void vscode.window.showInformationMessage(`Flowline: serving '${ready.flow}' at ${ready.url}`, OPEN_IN_BROWSER,
      STOP).then((choice) => {
      if (choice === OPEN_IN_BROWSER) {
        void vscode.env.openExternal(vscode.Uri.parse(ready.page));
      } else if (choice === STOP) {
        void this.stopEndpoint(endpoint);
      }
    });
    return ready.url;
  }

  /**
   * Stops an endpoint: the argument's flow, else the active editor's when it is served, else the
   * only one, else the one the user picks.
   */
  async stop(argument?: unknown): Promise<void> {
    const folder = this.flowFolder(argument);
    let endpoint = folder ? this.endpoints.get(folder) : undefined;
    if (!endpoint && this.endpoints.size === 1) {
      endpoint = [...this.endpoints.values()][0];
    } else if (!endpoint && this.endpoints.size > 1) {
      const picked = await vscode.window.showQuickPick([...this.endpoints.keys()].map((served) =>
        ({ label: path.basename(served), description: served })), { title: "Flowline: stop serving" });
      endpoint = picked ? this.endpoints.get(picked.description) : undefined;
    } else if (!endpoint) {
      void vscode.window.showInformationMessage("Flowline: no flow is being served.");
    }
    if (endpoint) {
      await this.stopEndpoint(endpoint);
    }
  }

  private async stopEndpoint(endpoint: Endpoint): Promise<void> {
    this.log.info(`Stopping the endpoint of ${endpoint.folder}`);
    await endpoint.stop();
    this.forget(endpoint.folder, endpoint);
  }

  private forget(folder: string, endpoint: Endpoint): void {
    if (this.endpoints.get(folder) === endpoint) {
      this.endpoints.delete(folder);
      void this.update();
    }
  }

  private update(): Thenable<unknown> {
    return vscode.commands.executeCommand("setContext", SERVING, this.endpoints.size > 0);
  }

  dispose(): void {
    for (const endpoint of this.endpoints.values()) {
      endpoint.terminal?.dispose();
      endpoint.dispose();
    }
    this.endpoints.clear();
  }
}
