/**
 * The `flowline` debugger: launch configurations become debugpy launches of `flowline flow test`
 * (see debugLaunch.ts), debugpy's adapter runs on the flow's interpreter behind a thin proxy
 * (see dap.ts), and each session's events file feeds the run panel while the session lives.
 */

import * as cp from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import { frame, FrameReader, withFlowlineDefaults } from "./dap";
import { debugpyLaunch, enclosingFlow, flowFile, type FlowlineLaunch } from "./debugLaunch";
import { EventTail } from "./eventTail";
import type { FlowEvent } from "./protocol";
import type { FlowlineServer } from "./python";
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

/** debugpy's adapter as a child process; VS Code talks to it through this object. */
class DebugpyAdapter implements vscode.DebugAdapter {
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;
  private readonly process: cp.ChildProcessWithoutNullStreams;
  private readonly reader = new FrameReader();
  /** What the flow wrote on stderr: the reason, when a run ends before it starts. */
  stderr = "";

  constructor(python: string, env: NodeJS.ProcessEnv, log: vscode.LogOutputChannel) {
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
      this.stderr += event.body.output ?? "";
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
    if (this.process.stdin.writable) {
      this.process.stdin.write(frame(message));
    }
  }

  dispose(): void {
    this.process.kill();
    this.sent.dispose();
  }
}

/** A live debug run: its files, its events so far, the adapter behind it. */
interface Session {
  folder: string;
  flow: string;
  node?: string;
  tail: EventTail;
  timer: NodeJS.Timeout;
  runId?: string;
  ended: boolean;
  adapter?: DebugpyAdapter;
  stopping?: vscode.Disposable;
}

export class FlowlineDebug implements vscode.DebugConfigurationProvider, vscode.DebugAdapterDescriptorFactory,
  vscode.Disposable {
  private readonly sessions = new Map<string, Session>();
  private readonly adapters = new Map<string, DebugpyAdapter>();
  private readonly listeners: vscode.Disposable[];

  constructor(private readonly server: FlowlineServer, private readonly runs: Runs,
              private readonly log: vscode.LogOutputChannel) {
    this.listeners = [
      vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, this),
      vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, this),
      vscode.debug.onDidStartDebugSession((session) => this.started(session)),
      vscode.debug.onDidTerminateDebugSession((session) => this.ended(session)),
    ];
  }

  /** Starts debugging a flow, or one node of it (code lenses, commands, the visual editor). */
  async start(uri: string, node?: string): Promise<void> {
    const file = vscode.Uri.parse(uri);
    const name = node ? `Debug node ${node}` : `Debug flow ${path.basename(path.dirname(file.fsPath))}`;
    // The run panel shows the run; the Debug Console stays one click away instead of covering it.
    const config: FlowlineLaunch = { type: DEBUG_TYPE, request: "launch", name, flow: file.fsPath, node,
      justMyCode: readSettings(file).justMyCode, internalConsoleOptions: "neverOpen" };
    await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(file), config);
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
  async resolveDebugConfigurationWithSubstitutedVariables(_folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    const launch = config as FlowlineLaunch;
    try {
      const flow = flowFile(String(launch.flow), isFile);
      if (!flow) {
        throw new Error(`No flow.dag.yaml at '${String(launch.flow)}' ("flow" names a flow folder or its file).`);
      }
      const interpreter = this.server.interpreter;
      if (!interpreter) {
        throw new Error("No Python interpreter is set up yet (see the Flowline output).");
      }
      if (!interpreter.debugpy) {
        throw new Error(`debugpy is not installed for ${interpreter.path}: run '${interpreter.path} -m pip install `
          + "debugpy' (or choose another interpreter) and try again.");
      }
      const uri = vscode.Uri.file(flow).toString();
      const inputs = launch.inputs ?? (launch.node ? await this.runs.nodeInputs(uri, launch.node)
        : await this.runs.flowInputs(uri));
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), "flowline-debug-"));
      const files = { inputs: path.join(folder, "inputs.json"), events: path.join(folder, "events.jsonl") };
      fs.writeFileSync(files.inputs, JSON.stringify(inputs));
      this.log.info(`Debugging ${launch.node ? `node ${launch.node} of ` : ""}${flow} with ${JSON.stringify(inputs)}`);
      return debugpyLaunch(launch, flow, files,
        { python: interpreter.path, serverRoot: this.server.serverRoot }) as vscode.DebugConfiguration;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(message);
      void vscode.window.showErrorMessage(`Flowline: ${message}`);
      return undefined;
    }
  }

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const python = (session.configuration.python as string[] | undefined)?.[0] ?? this.server.interpreter?.path;
    if (!python) {
      throw new Error("No Python interpreter is set up yet (see the Flowline output).");
    }
    const adapter = new DebugpyAdapter(python, this.server.environment(), this.log);
    this.adapters.set(session.id, adapter);
    return new vscode.DebugAdapterInlineImplementation(adapter);
  }

  private started(session: vscode.DebugSession): void {
    const events = session.configuration.flowlineEvents as string | undefined;
    if (session.type !== DEBUG_TYPE || !events) {
      return;
    }
    const state: Session = {
      folder: path.dirname(events), flow: String(session.configuration.flow), ended: false,
      node: session.configuration.node as string | undefined,
      adapter: this.adapters.get(session.id),
      tail: new EventTail(events, (event) => this.onEvent(state, session, event)),
      timer: setInterval(() => state.tail.poll(), POLL_MS),
    };
    this.sessions.set(session.id, state);
  }

  private onEvent(state: Session, session: vscode.DebugSession, event: FlowEvent): void {
    if (event.type === "run_start") {
      state.runId = event.run_id;
      state.stopping = this.runs.stopWith(event.run_id, () => vscode.debug.stopDebugging(session));
    } else if (event.type === "run_end") {
      state.ended = true;
    }
    this.runs.onEvent(event);
  }

  /** The last events; a run stopped from the debugger ends as Canceled, one that never began says why. */
  private ended(session: vscode.DebugSession): void {
    const state = this.sessions.get(session.id);
    this.adapters.delete(session.id);
    if (!state) {
      return;
    }
    this.sessions.delete(session.id);
    clearInterval(state.timer);
    state.tail.poll();
    state.stopping?.dispose();
    if (state.runId && !state.ended) {
      this.runs.onEvent({ type: "run_end", run_id: state.runId, status: "Canceled",
        error: { type: "Canceled", message: "The debug session ended before the run did." } });
    } else if (!state.runId) {
      const reason = (state.adapter?.stderr ?? "").trim().split("\n").pop()
        || "The debug session ended before the run started (see the Debug Console).";
      this.runs.notStarted(vscode.Uri.file(flowFile(state.flow, isFile) ?? state.flow).toString(), state.node,
        { type: "DebugSession", message: reason });
    }
    fs.rmSync(state.folder, { recursive: true, force: true });
  }

  dispose(): void {
    for (const state of this.sessions.values()) {
      clearInterval(state.timer);
    }
    for (const listener of this.listeners) {
      listener.dispose();
    }
  }
}
