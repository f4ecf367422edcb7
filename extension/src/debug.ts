/**
 * The `flowline` debugger: launch configurations become debugpy launches of `flowline flow test`
 * (see debugLaunch.ts), and debugpy's adapter runs on the flow's interpreter behind a thin proxy
 * (see dap.ts). Each adapter owns its debug run: the run's events file, read into the run panel
 * while the run lives, and what the panel shows when the session ends first.
 */

import * as cp from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import { frame, FrameReader, withFlowlineDefaults } from "./dap";
import { debugpyLaunch, enclosingFlow, flowFile, type FlowlineLaunch, withEventsFile } from "./debugLaunch";
import { EventTail } from "./eventTail";
import type { FlowEvent } from "./protocol";
import type { FlowlineServer } from "./python";
import { reportError } from "./report";
import type { Runs } from "./runs";
import { readSettings } from "./settings";

export const DEBUG_TYPE = "flowline";
const POLL_MS = 100;

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** One launch of a debug session, as the run panel sees it. */
class DebugRun {
  private readonly tail: EventTail;
  private timer: NodeJS.Timeout | undefined;
  private runId: string | undefined;
  private finished = false;
  private stopping: vscode.Disposable | undefined;
  private stderr = "";

  constructor(private readonly session: vscode.DebugSession, readonly events: string, private readonly runs: Runs) {
    this.tail = new EventTail(events, (event) => this.onEvent(event));
  }

  /** The flow is about to start: read its events as they come. */
  launched(): void {
    this.timer ??= setInterval(() => this.tail.poll(), POLL_MS);
  }

  /** What the flow wrote on stderr: the reason, when it ends before its run starts. */
  wroteError(text: string): void {
    this.stderr += text;
  }

  private onEvent(event: FlowEvent): void {
    if (event.type === "run_start") {
      this.runId = event.run_id;
      this.stopping = this.runs.stopWith(event.run_id, () => vscode.debug.stopDebugging(this.session));
      const tag = this.session.configuration.tag;
      if (typeof tag === "string") {
        event = { ...event, tag };  // as the language server tags its runs (a chat turn's run)
      }
    } else if (event.type === "run_end") {
      this.finished = true;
    }
    this.runs.onEvent(event);
  }

  /** The last events; a run stopped from the debugger ends as Canceled, one that never began says why. */
  end(): void {
    if (this.timer === undefined) {
      return;  // never launched (the adapter stopped first)
    }
    clearInterval(this.timer);
    this.tail.poll();
    this.stopping?.dispose();
    const config = this.session.configuration;
    if (this.runId && !this.finished) {
      this.runs.onEvent({ type: "run_end", run_id: this.runId, status: "Canceled",
        error: { type: "Canceled", message: "The debug session ended before the run did." } });
    } else if (!this.runId) {
      const reason = this.stderr.trim().split("\n").pop()
        || "The debug session ended before the run started (see the Debug Console).";
      this.runs.notStarted(vscode.Uri.file(String(config.flow)).toString(), config.node as string | undefined,
        { type: "DebugSession", message: reason });
    }
    fs.rmSync(this.events, { force: true });
  }
}

/** debugpy's adapter as a child process; VS Code talks to it through this object. */
class DebugpyAdapter implements vscode.DebugAdapter {
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;
  private readonly process: cp.ChildProcessWithoutNullStreams;
  private readonly reader = new FrameReader();

  constructor(python: string, env: NodeJS.ProcessEnv, log: vscode.LogOutputChannel, private readonly run: DebugRun) {
    this.process = cp.spawn(python, ["-m", "debugpy.adapter"], { env });
    this.process.stdout.on("data", (chunk: Buffer) => {
      for (const message of this.reader.push(chunk)) {
        this.fromAdapter(message);
      }
    });
    this.process.stderr.on("data", (chunk: Buffer) => log.warn(`debugpy adapter: ${chunk.toString().trimEnd()}`));
    this.process.stdin.on("error", (error) => log.warn(`debugpy adapter input: ${error.message}`));
    this.process.on("error", (error) => this.fail(`debugpy's adapter did not start: ${error.message}`));
    this.process.on("exit", (code) => {
      if (code) {
        this.fail(`debugpy's adapter stopped (exit code ${code}); see the Flowline output.`);
      }
    });
  }

  private fromAdapter(message: unknown): void {
    const event = message as { type?: string; event?: string; body?: { category?: string; output?: string } };
    if (event.type === "event" && event.event === "output" && event.body?.category === "stderr") {
      this.run.wroteError(event.body.output ?? "");
    }
    this.sent.fire(withFlowlineDefaults(message) as vscode.DebugProtocolMessage);
  }

  /** Ends the session with a reason in the Debug Console (VS Code would otherwise wait). */
  private fail(reason: string): void {
    const output: vscode.DebugProtocolMessage = { type: "event", event: "output", seq: 0,
      body: { category: "stderr", output: `${reason}\n` } };
    const terminated: vscode.DebugProtocolMessage = { type: "event", event: "terminated", seq: 0 };
    this.sent.fire(output);
    this.sent.fire(terminated);
  }

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const sent = withEventsFile(message, this.run.events);
    if (sent !== message) {
      this.run.launched();
    }
    if (this.process.stdin.writable) {
      this.process.stdin.write(frame(sent));
    }
  }

  dispose(): void {
    this.process.kill();
    this.run.end();
    this.sent.dispose();
  }
}

export class FlowlineDebug implements vscode.DebugConfigurationProvider, vscode.DebugAdapterDescriptorFactory,
  vscode.Disposable {
  private readonly registrations: vscode.Disposable[];
  private folder: string | undefined;
  private launches = 0;

  constructor(private readonly server: FlowlineServer, private readonly runs: Runs,
              private readonly log: vscode.LogOutputChannel) {
    this.registrations = [
      vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, this),
      vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, this),
    ];
  }

  /** A new file in this window's folder for debug runs (removed with the extension). */
  private file(name: string): string {
    this.folder ??= fs.mkdtempSync(path.join(os.tmpdir(), "flowline-debug-"));
    this.launches += 1;
    return path.join(this.folder, `${this.launches}-${name}`);
  }

  /**
   * Starts debugging a flow, or one node of it (code lenses, commands, the visual editor, the chat
   * panel). `run.inputs` are the flow's inputs as given (else the run panel's); `run.tag` is set on the
   * run's `run_start` event. Resolves with whether the session started.
   */
  async start(uri: string, node?: string, run: { inputs?: Record<string, unknown>; tag?: string; name?: string } = {})
    : Promise<boolean> {
    const file = vscode.Uri.parse(uri);
    const name = run.name ?? (node ? `Debug node ${node}` : `Debug flow ${path.basename(path.dirname(file.fsPath))}`);
    // The run panel shows the run; the Debug Console stays one click away instead of covering it.
    const config: FlowlineLaunch = { type: DEBUG_TYPE, request: "launch", name, flow: file.fsPath, node,
      justMyCode: readSettings(file).justMyCode, internalConsoleOptions: "neverOpen",
      ...(run.inputs ? { inputs: run.inputs } : {}), ...(run.tag ? { tag: run.tag } : {}) };
    return vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(file), config);
  }

  /** F5 without a launch.json, or a configuration without `flow`: the flow of the active editor. */
  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration)
    : vscode.DebugConfiguration | undefined {
    const active = vscode.window.activeTextEditor?.document.uri;
    const flow = active?.scheme === "file" ? enclosingFlow(active.fsPath, isFile) : undefined;
    if (!config.type && !config.request && !config.name) {
      Object.assign(config, { type: DEBUG_TYPE, request: "launch", name: "Debug flow", justMyCode: true });
    }
    if (!config.flow) {
      if (!flow) {
        void vscode.window.showErrorMessage("Flowline: set \"flow\" in the launch configuration, or open a "
          + "flow.dag.yaml (or a file of the flow) first.");
        return undefined;
      }
      config.flow = flow;
    }
    return config;
  }

  /** Writes the run's inputs and turns the configuration into debugpy's launch request. */
  async resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    const launch = config as FlowlineLaunch;
    try {
      // A relative "flow" is relative to the workspace folder, as other launch.json paths are.
      const flow = flowFile(path.resolve(folder?.uri.fsPath ?? "", String(launch.flow)), isFile);
      if (!flow) {
        throw new Error(`No flow.dag.yaml at '${String(launch.flow)}' ("flow" names a flow folder or its file).`);
      }
      const interpreter = this.server.interpreter;
      if (!interpreter) {
        throw new Error("No Python interpreter is set up yet (see the Flowline output).");
      }
      if (!await this.server.hasDebugpy()) {
        throw new Error(`debugpy is not installed for ${interpreter.path}: run '${interpreter.path} -m pip install `
          + "debugpy' (or choose another interpreter) and try again.");
      }
      const uri = vscode.Uri.file(flow).toString();
      const inputs = launch.inputs ?? (launch.node ? await this.runs.nodeInputs(uri, launch.node)
        : await this.runs.flowInputs(uri));
      const inputsFile = this.file("inputs.json");
      fs.writeFileSync(inputsFile, JSON.stringify(inputs));
      this.log.info(`Debugging ${launch.node ? `node ${launch.node} of ` : ""}${flow} with ${JSON.stringify(inputs)}`);
      return debugpyLaunch(launch, flow, inputsFile,
        { python: interpreter.path, serverRoot: this.server.serverRoot }) as vscode.DebugConfiguration;
    } catch (error) {
      reportError(this.log, error);
      return undefined;
    }
  }

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const python = (session.configuration.python as string[] | undefined)?.[0] ?? this.server.interpreter?.path;
    if (!python) {
      throw new Error("No Python interpreter is set up yet (see the Flowline output).");
    }
    const run = new DebugRun(session, this.file("events.jsonl"), this.runs);
    return new vscode.DebugAdapterInlineImplementation(
      new DebugpyAdapter(python, this.server.environment(), this.log, run));
  }

  dispose(): void {
    for (const registration of this.registrations) {
      registration.dispose();
    }
    if (this.folder) {
      fs.rmSync(this.folder, { recursive: true, force: true });
    }
  }
}
