/**
 * Runs started from VS Code: asks the language server to run a flow or a node, keeps the run
 * history from the streamed `flowline/event` notifications (and from debug sessions' events, see
 * debug.ts), and remembers each flow's last inputs. However a run ends (its own events, the server's
 * answer, a server that stopped, a window that reloaded), it ends in the history with its reason;
 * the workspace keeps the last 50 runs, so they are back after a reload. A node whose inputs come
 * from nodes that never ran asks for them in the run panel's node form (as does one whose last output
 * the language server clipped: that is not the value the node produced). The run panel, the visual
 * editor and the inline results read from here.
 */

import * as path from "path";
import * as vscode from "vscode";
import { ExecuteCommandRequest, type LanguageClient, State } from "vscode-languageclient/node";
import { formInputs, nodeFormInputs } from "./inputs";
import type { FlowForm, InputField, NodeForm } from "./messages";
import { type ErrorInfo, EVENT_NOTIFICATION, type FlowEvent, type FlowGraph, GRAPH_REQUEST, type RunResult,
  type Status } from "./protocol";
import { applyEvent, endRunning, failedToStart, forStorage, isClipped, restore, type RunHistory, runTitle,
  type RunView, settle } from "./runModel";

const VALUES_KEY = "flowline.inputs";
const NODE_VALUES_KEY = "flowline.nodeInputs";
const RUNS_KEY = "flowline.runs";
const SAVE_DELAY_MS = 500;
const RELOADED: ErrorInfo = { type: "Interrupted",
  message: "The window closed or reloaded while the run was going on; run it again." };
const SERVER_STOPPED: ErrorInfo = { type: "Interrupted",
  message: "The Flowline language server stopped while the run was going on (a restart, or a crash: see the "
    + "Flowline output); run it again." };

/** A run's answer, with what it was a run of. */
export interface RunFinished {
  uri: string;
  node?: string;
  result: RunResult;
}

type Values = Record<string, Record<string, unknown>>;

export class Runs implements vscode.Disposable {
  history: RunHistory;
  /** The values a node run asked for, when one did. */
  nodeForm: NodeForm | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the history, the running set or a flow's form changes. */
  readonly onDidChange = this.changed.event;
  private readonly finished = new vscode.EventEmitter<RunFinished>();
  /** Fires with the answer of each run the language server ran. */
  readonly onDidFinish = this.finished.event;
  private readonly attached = new vscode.EventEmitter<void>();
  /** Fires when a (re)started language server is there to answer (a graph, a run). */
  readonly onDidAttach = this.attached.event;
  private readonly evented = new vscode.EventEmitter<FlowEvent>();
  /** Fires with each run event (the language server's and debug runs'), once the history has it. */
  readonly onDidEvent = this.evented.event;
  readonly running = new Set<string>();
  private client: LanguageClient | undefined;
  private starts = 0;
  private saving: NodeJS.Timeout | undefined;
  private readonly stoppers = new Map<string, () => Thenable<unknown>>();

  constructor(private readonly state: vscode.Memento, private readonly log: vscode.LogOutputChannel) {
    this.history = restore(state.get(RUNS_KEY), RELOADED);
  }

  /** Listens to a (re)started language client; the runs it had going end when it stops. */
  attach(client: LanguageClient): vscode.Disposable {
    this.client = client;
    this.attached.fire();
    return vscode.Disposable.from(
      client.onNotification(EVENT_NOTIFICATION, (event: FlowEvent) => this.onEvent(event)),
      client.onDidChangeState((change) => {
        if (change.newState === State.Stopped) {
          this.end("Failed", SERVER_STOPPED, (run) => !this.stoppers.has(run.runId));
        }
      }),
    );
  }

  onEvent(event: FlowEvent): void {
    this.history = applyEvent(this.history, event);
    this.update(event.type !== "log" && event.type !== "llm_token");
    this.evented.fire(event);
  }

  /** After the history changed: the running set, listeners, and (when `save`) the workspace's copy soon. */
  private update(save: boolean): void {
    const before = this.running.size;
    this.running.clear();
    for (const run of this.history) {
      if (run.status === "Running") {
        this.running.add(run.runId);
      }
    }
    if (this.running.size !== before) {
      void vscode.commands.executeCommand("setContext", "flowline.running", this.running.size > 0);
    }
    if (save) {
      this.saving ??= setTimeout(() => this.save(), SAVE_DELAY_MS);
    }
    this.changed.fire();
  }

  private save(): void {
    clearTimeout(this.saving);
    this.saving = undefined;
    void this.state.update(RUNS_KEY, forStorage(this.history));
  }

  /** Runs still going on that `pick` chooses end with `status` and `error`. */
  private end(status: Status, error: ErrorInfo, pick: (run: RunView) => boolean): void {
    this.history = endRunning(this.history, status, error, pick);
    this.update(true);
  }

  /** The running language client; a clear error when the server is not running. */
  ready(): LanguageClient {
    if (!this.client || !this.client.isRunning()) {
      throw new Error("The Flowline language server is not running (see the Flowline output).");
    }
    return this.client;
  }

  /** The flow's graph from the server (inputs with types and defaults, nodes with spans, edges). */
  async graph(uri: string): Promise<FlowGraph> {
    return this.ready().sendRequest(GRAPH_REQUEST, { uri });
  }

  /** The run form of a flow: its inputs and the values last used. */
  async form(uri: string): Promise<FlowForm> {
    const graph = await this.graph(uri);
    const fields: InputField[] = graph.inputs.map((i) => ({ name: i.name, type: i.type, default: i.default ?? null,
      description: i.description ?? null }));
    return { uri, name: path.basename(path.dirname(vscode.Uri.parse(uri).fsPath)), fields, values: this.values(uri) };
  }

  values(uri: string): Record<string, unknown> {
    return this.state.get<Values>(VALUES_KEY, {})[uri] ?? {};
  }

  private async remember(key: string, id: string, values: Record<string, unknown>): Promise<void> {
    await this.state.update(key, { ...this.state.get<Values>(key, {}), [id]: values });
  }

  /**
   * Sends a run to the language server; its answer settles the run in the history. A request that
   * fails (the server stopped during the run) ends the run it was, or adds one that says so.
   */
  private async execute(command: string, args: unknown[], uri: string, node?: string): Promise<RunResult> {
    const client = this.ready();
    const flow = vscode.Uri.parse(uri).fsPath;
    let result: RunResult;
    try {
      result = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    } catch (error) {
      const lost: ErrorInfo = { type: "Interrupted", message: `The language server did not answer the run: ${
        error instanceof Error ? error.message : String(error)}` };
      const going = this.history.find((r) => r.status === "Running" && r.flow === flow && r.node === node
        && !this.stoppers.has(r.runId));
      if (going) {
        this.end("Failed", lost, (r) => r === going);
      } else {
        this.notStarted(uri, node, lost);
      }
      result = { run_id: going?.runId ?? null, status: "Failed", outputs: null, error: lost, started: !!going };
      this.finished.fire({ uri, node, result });
      return result;
    }
    this.history = settle(this.history, result, flow, node);
    this.update(true);
    if (result.status !== "NeedsInputs") {
      this.finished.fire({ uri, node, result });
    }
    return result;
  }

  /** A run that never started (an invalid debug launch, a server that did not answer): kept with its reason. */
  notStarted(uri: string, node: string | undefined, error: ErrorInfo): void {
    this.starts += 1;
    this.history = failedToStart(this.history, vscode.Uri.parse(uri).fsPath, node, error, `not-started-${this.starts}`);
    this.update(true);
  }

  /** A whole flow's inputs: the form's values (or `values`), typed by the flow's input types, remembered. */
  async flowInputs(uri: string, values?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const form = await this.form(uri);
    const chosen = values ?? form.values;
    await this.remember(VALUES_KEY, uri, chosen);
    return formInputs(form.fields, chosen);
  }

  /**
   * One node's inputs: its flow inputs come from the form; the outputs of the nodes it depends on
   * come from the latest run of the flow that produced them, unless the language server clipped them
   * (the node form then asks for them).
   */
  async nodeInputs(uri: string, node: string): Promise<Record<string, unknown>> {
    const [form, graph] = await Promise.all([this.form(uri), this.graph(uri)]);
    const inputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(formInputs(form.fields, form.values))) {
      inputs[`inputs.${name}`] = value;
    }
    const flowPath = vscode.Uri.parse(uri).fsPath;
    const upstream = new Set(graph.edges.filter((e) => e.target === node && !e.source.startsWith("inputs."))
      .map((e) => e.source));
    for (const dependency of upstream) {
      const produced = this.history.find((run) => run.flow === flowPath
        && run.nodes.some((n) => n.name === dependency && n.status === "Completed"));
      const view = produced?.nodes.find((n) => n.name === dependency);
      if (view && isClipped(view.output)) {
        this.log.info(`The last output of ${dependency} was clipped (too large for the editor): asking for it`);
      } else if (view) {
        inputs[`${dependency}.output`] = view.output;
      }
    }
    return inputs;
  }

  /** Runs a whole flow with the form's values (or `values`). */
  async runFlow(uri: string, values?: Record<string, unknown>): Promise<RunResult> {
    const inputs = await this.flowInputs(uri, values);
    this.log.info(`Running ${vscode.Uri.parse(uri).fsPath} with ${JSON.stringify(inputs)}`);
    return this.execute("flowline.runFlow", [uri, inputs], uri);
  }

  /**
   * Runs a chat turn: the flow with `inputs` as given (already typed), on the same path as Run flow, so
   * the turn is a run of the history like any other. Its `run_start` event carries `tag`.
   */
  async runChatTurn(uri: string, inputs: Record<string, unknown>, tag: string): Promise<RunResult> {
    this.log.info(`Chat turn ${tag} of ${vscode.Uri.parse(uri).fsPath} with ${JSON.stringify(inputs).slice(0, 2000)}`);
    return this.execute("flowline.runFlow", [uri, inputs, { tag }], uri);
  }

  /**
   * Runs one node with the inputs of `nodeInputs`, plus the values typed into its node form. When
   * the server says the node lacks values (nodes it reads from never ran), the node form asks for them.
   */
  async runNode(uri: string, node: string, typed?: Record<string, string>): Promise<RunResult> {
    const inputs = await this.nodeInputs(uri, node);
    const id = `${uri}#${node}`;
    if (typed) {
      const asked = this.nodeForm?.uri === uri && this.nodeForm.node === node ? this.nodeForm.fields : [];
      Object.assign(inputs, nodeFormInputs(asked, typed));
      await this.remember(NODE_VALUES_KEY, id, typed);
    }
    this.log.info(`Running node ${node} of ${vscode.Uri.parse(uri).fsPath} with ${JSON.stringify(inputs)}`);
    const result = await this.execute("flowline.runNode", [uri, node, inputs], uri, node);
    if (result.needs?.length) {
      this.log.info(`Node ${node} needs values for ${result.needs.map((n) => n.key).join(", ")}: asking in the run panel`);
      this.nodeForm = { uri, node, title: runTitle(vscode.Uri.parse(uri).fsPath, node), fields: result.needs,
        values: this.state.get<Values>(NODE_VALUES_KEY, {})[id] ?? {} };
    } else if (this.nodeForm?.uri === uri && this.nodeForm.node === node) {
      this.nodeForm = undefined;
    }
    this.update(false);
    return result;
  }

  /** Closes the node form without running the node. */
  closeNodeForm(): void {
    this.nodeForm = undefined;
    this.update(false);
  }

  /** Runs a run of the history again with the same inputs. */
  async rerun(runId: string): Promise<RunResult | undefined> {
    const run: RunView | undefined = this.history.find((r) => r.runId === runId);
    if (!run) {
      return undefined;
    }
    const uri = vscode.Uri.file(run.flow).toString();
    if (run.node) {
      return this.runNode(uri, run.node);
    }
    return this.execute("flowline.runFlow", [uri, run.inputs ?? {}], uri);
  }

  /** A run the language server does not own (a debug session): `cancel` calls `stop` for it. */
  stopWith(runId: string, stop: () => Thenable<unknown>): vscode.Disposable {
    this.stoppers.set(runId, stop);
    return { dispose: () => this.stoppers.delete(runId) };
  }

  /** Stops a run; one nobody can stop any more (its server is gone) ends here as Canceled. */
  async cancel(runId: string): Promise<void> {
    const stop = this.stoppers.get(runId);
    if (stop) {
      await stop();
      return;
    }
    let stopped = false;
    try {
      stopped = await this.ready().sendRequest(ExecuteCommandRequest.type,
        { command: "flowline.cancelRun", arguments: [runId] }) === true;
    } catch (error) {
      this.log.warn(`Canceling run ${runId}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!stopped) {
      this.end("Canceled", { type: "Canceled", message: "Canceled; the language server no longer ran it." },
        (run) => run.runId === runId);
    }
  }

  clear(): void {
    this.history = this.history.filter((r) => this.running.has(r.runId));
    this.update(true);
  }

  dispose(): void {
    if (this.saving !== undefined) {
      this.save();
    }
    this.changed.dispose();
    this.finished.dispose();
    this.attached.dispose();
    this.evented.dispose();
  }
}
