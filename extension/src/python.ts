/**
 * Finds the Python interpreter (see interpreter.ts for the order), makes a private environment when
 * none can run the server, and starts, restarts and stops `flowline lsp` through
 * vscode-languageclient. Its state shows in a status bar item; its log goes to the Flowline output.
 */

import * as cp from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import { LanguageClient, type LanguageClientOptions, type Middleware, type ServerOptions, State }
  from "vscode-languageclient/node";
import { candidates, type Candidate, expand, MIN_PYTHON, recentEnough } from "./interpreter";
import { readSettings } from "./settings";

const PROBE = [
  "import importlib.util, json, sys",
  "v = '%d.%d.%d' % sys.version_info[:3]",
  "missing = None",
  "try:",
  "    import flowline.lsp.server",
  "except Exception as e:",
  "    missing = '%s: %s' % (type(e).__name__, e)",
  "debugpy = importlib.util.find_spec('debugpy') is not None",
  "print(json.dumps({'version': v, 'missing': missing, 'executable': sys.executable, 'debugpy': debugpy}))",
].join("\n");

interface Probe {
  version: string;
  missing: string | null;
  executable: string;
  debugpy: boolean;
}

/** The interpreter the server runs on, and how it was found. */
export interface Interpreter {
  path: string;
  version: string;
  source: string;
  /** Whether debugpy (which "Debug node / flow" runs) can be imported. */
  debugpy: boolean;
}

/** How a failed process ended: its exit code (null when a signal ended it), the signal, its stderr's last line. */
export interface ProcessEnd {
  code: number | null;
  signal: string | null;
  lastLine: string;
}

/** A process that failed; `reason` is the last line it wrote on stderr (Flowline's CLI explains there). */
export class ProcessError extends Error {
  constructor(message: string, readonly reason: string, readonly end: ProcessEnd) {
    super(message);
  }
}

/** Runs a process to its end; resolves with its stdout. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000, cwd?: string)
  : Promise<string> {
  return new Promise((resolve, reject) => {
    cp.execFile(command, args, { env, cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const lastLine = stderr.trim().split("\n").pop() ?? "";
          reject(new ProcessError(`${error.message}${stderr ? `\n${stderr}` : ""}`, lastLine || error.message,
            { code: typeof error.code === "number" ? error.code : null, signal: error.signal ?? null, lastLine }));
        } else {
          resolve(stdout);
        }
      });
  });
}

/** `python -m pip install -r <requirements>` from the requirements file's folder (ten minutes at most). */
function pipInstall(python: string, requirements: string): Promise<string> {
  return run(python, ["-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", requirements], process.env,
    600_000, path.dirname(requirements));
}

export class FlowlineServer implements vscode.Disposable {
  client: LanguageClient | undefined;
  interpreter: Interpreter | undefined;
  private readonly status: vscode.StatusBarItem;
  private readonly started = new vscode.EventEmitter<LanguageClient>();
  /** Fires each time a language client is running (after start and after every restart). */
  readonly onDidStart = this.started.event;
  private starting: Promise<void> | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel,
              private readonly middleware: Middleware) {
    this.status = vscode.window.createStatusBarItem("flowline.status", vscode.StatusBarAlignment.Left, 10);
    this.status.name = "Flowline";
    this.status.command = "flowline.selectInterpreter";
    this.show("$(sync~spin) Flowline", "Starting the Flowline language server");
  }

  /** Where the server's Python sources are: inside the extension. */
  get serverRoot(): string {
    return path.join(this.context.extensionPath, "server");
  }

  /** The environment for Python processes: the bundled server first on the import path. */
  environment(): NodeJS.ProcessEnv {
    const existing = process.env.PYTHONPATH;
    return { ...process.env, PYTHONPATH: existing ? `${this.serverRoot}${path.delimiter}${existing}` : this.serverRoot,
      PYTHONUNBUFFERED: "1" };
  }

  /** Runs `python -m flowline <args>` with the server's interpreter; resolves with stdout. */
  async flowline(args: string[], cwd?: string): Promise<string> {
    if (!this.interpreter) {
      throw new Error("No Python interpreter is set up yet (see the Flowline output).");
    }
    try {
      // No time limit: a batch run takes as long as its data needs.
      return await run(this.interpreter.path, ["-m", "flowline", ...args], this.environment(), 0, cwd);
    } catch (error) {
      // The CLI's own "flowline: error: " prefix would follow the notification's "Flowline: ".
      if (error instanceof ProcessError) {
        const reason = error.reason.replace(/^flowline: error: /, "");
        throw new ProcessError(reason, reason, error.end);  // how it ended, for callers that tell kills apart
      }
      throw error;
    }
  }

  private show(text: string, tooltip: string, error = false): void {
    this.status.text = text;
    this.status.tooltip = tooltip;
    this.status.backgroundColor = error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
    this.status.show();
  }

  private async probe(python: string): Promise<Probe | string> {
    try {
      return JSON.parse((await run(python, ["-c", PROBE], this.environment())).trim()) as Probe;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Whether the interpreter can import debugpy (asked again while it could not: it may be installed since). */
  async hasDebugpy(): Promise<boolean> {
    const interpreter = this.interpreter;
    if (interpreter && !interpreter.debugpy) {
      const probe = await this.probe(interpreter.path);
      interpreter.debugpy = typeof probe !== "string" && probe.debugpy;
    }
    return interpreter?.debugpy ?? false;
  }

  private async pythonExtensionChoice(scope: vscode.Uri | undefined): Promise<string | undefined> {
    const extension = vscode.extensions.getExtension("ms-python.python");
    if (!extension) {
      return undefined;
    }
    try {
      const api = (extension.isActive ? extension.exports : await extension.activate()) as {
        environments?: { getActiveEnvironmentPath(scope?: vscode.Uri): { path: string };
          resolveEnvironment(env: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined> };
      };
      const chosen = api.environments?.getActiveEnvironmentPath(scope);
      if (!chosen || !api.environments) {
        return undefined;
      }
      const resolved = await api.environments.resolveEnvironment(chosen);
      return resolved?.executable.uri?.fsPath ?? chosen.path;
    } catch (error) {
      this.log.warn(`The Python extension gave no interpreter: ${String(error)}`);
      return undefined;
    }
  }

  private get privateVenv(): string {
    return path.join(this.context.globalStorageUri.fsPath, "venv");
  }

  private venvPython(venv: string): string {
    return process.platform === "win32" ? path.join(venv, "Scripts", "python.exe") : path.join(venv, "bin", "python");
  }

  /** Creates the private environment from `base` with the pinned requirements, showing progress. */
  private async createPrivateVenv(base: string): Promise<string> {
    const venv = this.privateVenv;
    const requirements = path.join(this.serverRoot, "requirements.txt");
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, cancellable: false,
      title: "Flowline: preparing a Python environment for the language server (once)" }, async (progress) => {
      progress.report({ message: `python -m venv (from ${base})` });
      fs.mkdirSync(path.dirname(venv), { recursive: true });
      await run(base, ["-m", "venv", "--clear", venv], process.env, 120_000);
      progress.report({ message: "installing PyYAML, Jinja2, jsonschema, openai, pygls, debugpy…" });
      await pipInstall(this.venvPython(venv), requirements);
    });
    return this.venvPython(venv);
  }

  /** Installs a flow's requirements.txt into the interpreter flows run with, showing progress. */
  async installRequirements(requirements: string): Promise<void> {
    const python = this.interpreter?.path;
    if (!python) {
      throw new Error("No Python interpreter is set up yet (see the Flowline output).");
    }
    this.log.info(`Installing ${requirements} into ${python}`);
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, cancellable: false,
        title: `Flowline: installing ${requirements} into ${python}` }, () => pipInstall(python, requirements));
    } catch (error) {
      this.log.error(`pip install -r ${requirements}: ${error instanceof Error ? error.message : String(error)}`);
      const reason = error instanceof ProcessError ? error.reason : String(error);
      throw new Error(`Installing ${requirements} into ${python} failed: ${reason} (the Flowline output has pip's `
        + "whole message).");
    }
  }

  /** The first interpreter that can run the server, making a private environment when needed. */
  async findInterpreter(): Promise<Interpreter | undefined> {
    const settings = readSettings();
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const scope = vscode.workspace.workspaceFolders?.[0]?.uri;
    const list: Candidate[] = candidates({
      setting: expand(settings.interpreterPath, folders[0], os.homedir()),
      pythonExtension: settings.interpreterPath ? undefined : await this.pythonExtensionChoice(scope),
      workspaceFolders: folders, platform: process.platform, exists: (p) => fs.existsSync(p),
    });
    if (!settings.interpreterPath && fs.existsSync(this.venvPython(this.privateVenv))) {
      list.splice(list.length - 1, 0, { path: this.venvPython(this.privateVenv), source: "Flowline's environment" });
    }
    const problems: string[] = [];
    let base: string | undefined;
    for (const candidate of list) {
      const probe = await this.probe(candidate.path);
      if (typeof probe === "string") {
        problems.push(`${candidate.path} (${candidate.source}) cannot be run: ${probe.split("\n")[0]}`);
        continue;
      }
      if (!recentEnough(probe.version)) {
        problems.push(`${candidate.path} (${candidate.source}) is Python ${probe.version}; Flowline needs `
          + `${MIN_PYTHON.join(".")} or newer`);
        continue;
      }
      if (probe.missing) {
        problems.push(`${candidate.path} (${candidate.source}) lacks the server's packages (${probe.missing})`);
        base ??= probe.executable;
        continue;
      }
      this.log.info(`Using ${probe.executable} (Python ${probe.version}, ${candidate.source})`);
      return { path: probe.executable, version: probe.version, source: candidate.source, debugpy: probe.debugpy };
    }
    for (const problem of problems) {
      this.log.warn(problem);
    }
    if (base !== undefined && !settings.interpreterPath) {
      try {
        const python = await this.createPrivateVenv(base);
        const probe = await this.probe(python);
        if (typeof probe !== "string" && !probe.missing) {
          return { path: python, version: probe.version, source: "Flowline's environment", debugpy: probe.debugpy };
        }
        this.log.error(`The new environment still cannot run the server: ${JSON.stringify(probe)}`);
      } catch (error) {
        this.log.error(`Creating Flowline's environment failed: ${String(error)}`);
      }
    }
    const detail = problems.length ? problems[problems.length - 1] : "no Python found";
    const choice = await vscode.window.showErrorMessage(
      `Flowline needs Python ${MIN_PYTHON.join(".")} or newer with its packages: ${detail}.`,
      "Select Interpreter", "Show Log");
    if (choice === "Select Interpreter") {
      void vscode.commands.executeCommand("flowline.selectInterpreter");
    } else if (choice === "Show Log") {
      this.log.show();
    }
    return undefined;
  }

  /** Starts the server (once; concurrent calls share the same start). */
  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.show("$(sync~spin) Flowline", "Starting the Flowline language server");
    const interpreter = await this.findInterpreter();
    if (!interpreter) {
      this.show("$(error) Flowline", "No Python can run the Flowline language server: click to choose one", true);
      return;
    }
    this.interpreter = interpreter;
    const settings = readSettings();
    const serverOptions: ServerOptions = {
      command: interpreter.path,
      args: ["-m", "flowline", "lsp", "--log-level", settings.logLevel],
      options: { env: this.environment() },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "yaml", pattern: "**/flow.dag.{yaml,yml}" },
        { scheme: "file", language: "python" },
        { scheme: "file", pattern: "**/*.{jinja2,j2}" },
      ],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{py,jinja2,j2}") },
      outputChannel: this.log,
      traceOutputChannel: this.log,
      middleware: this.middleware,
    };
    const client = new LanguageClient("flowline", "Flowline", serverOptions, clientOptions);
    client.onDidChangeState((change) => {
      if (change.newState === State.Running) {
        this.show("$(pulse) Flowline", `Flowline language server on Python ${interpreter.version}\n${interpreter.path}`
          + `\n(${interpreter.source}) — click to choose another interpreter`);
      } else if (change.newState === State.Stopped) {
        this.show("$(error) Flowline", "The Flowline language server stopped: see the Flowline output", true);
      }
    });
    this.client = client;
    try {
      await client.start();
      this.started.fire(client);
    } catch (error) {
      this.log.error(`The language server did not start: ${String(error)}`);
      this.show("$(error) Flowline", "The Flowline language server did not start: see the Flowline output", true);
    }
  }

  /** Stops the running server, if any. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop();
      } catch (error) {
        this.log.warn(`Stopping the language server: ${String(error)}`);
      }
    }
  }

  /** Stops and starts the server again (after an interpreter or setting change). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  dispose(): void {
    void this.stop();
    this.status.dispose();
    this.started.dispose();
  }
}
