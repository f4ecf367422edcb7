/**
 * Runs started from VS Code: asks the language server to run a flow or a node, keeps the session's
 * run history from the streamed `flowline/event` notifications (and from debug sessions' events,
 * see debug.ts), and remembers each flow's last inputs. The run panel and the inline results read
 * from here.
 */

import * as path from "path";
import * as vscode from "vscode";
import { ExecuteCommandRequest, type LanguageClient } from "vscode-languageclient/node";
import { formInputs } from "./inputs";
import type { FlowForm, InputField } from "./messages";
import { type ErrorInfo, EVENT_NOTIFICATION, type FlowEvent, type FlowGraph, GRAPH_REQUEST, type RunResult } from "./protocol";
import { applyEvent, failedToStart, type RunHistory, type RunView } from "./runModel";

const VALUES_KEY = "flowline.inputs";

export class Runs implements vscode.Disposable {
  history: RunHistory = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the history, the running set or a flow's form changes. */
  readonly onDidChange = this.changed.event;
  readonly running = new Set<string>();
  private client: LanguageClient | undefined;
  private starts = 0;
  private readonly stoppers = new Map<string, () => Thenable<unknown>>();

  constructor(private readonly state: vscode.Memento, private readonly log: vscode.LogOutputChannel) {}

  /** Listens to a (re)started language client. */
  attach(client: LanguageClient): vscode.Disposable {
    this.client = client;
    return client.onNotification(EVENT_NOTIFICATION, (event: FlowEvent) => this.onEvent(event));
  }

  onEvent(event: FlowEvent): void {
    this.history = applyEvent(this.history, event);
    const running = this.running.size;
    if (event.type === "run_start") {
      this.running.add(event.run_id);
    } else if (event.type === "run_end") {
      this.running.delete(event.run_id);
    }
    if (this.running.size !== running) {
      void vscode.commands.executeCommand("setContext", "flowline.running", this.running.size > 0);
    }
    this.changed.fire();
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
    return this.state.get<Record<string, Record<string, unknown>>>(VALUES_KEY, {})[uri] ?? {};
  }

  private async remember(uri: string, values: Record<string, unknown>): Promise<void> {
    const all = { ...this.state.get<Record<string, Record<string, unknown>>>(VALUES_KEY, {}), [uri]: values };
    await this.state.update(VALUES_KEY, all);
  }

  private async execute(command: string, args: unknown[], uri: string, node?: string): Promise<RunResult> {
    const client = this.ready();
    const result: RunResult = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    if (result && result.run_id === null && result.error) {
      this.notStarted(uri, node, result.error);
    }
    return result;
  }

  /** A run that never started (an invalid flow, bad inputs): its reason stays in the history. */
  notStarted(uri: string, node: string | undefined, error: ErrorInfo): void {
    this.starts += 1;
    this.history = failedToStart(this.history, vscode.Uri.parse(uri).fsPath, node, error, `not-started-${this.starts}`);
    this.changed.fire();
  }

  /** A whole flow's inputs: the form's values (or `values`), typed by the flow's input types, remembered. */
  async flowInputs(uri: string, values?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const form = await this.form(uri);
    const chosen = values ?? form.values;
    await this.remember(uri, chosen);
    return formInputs(form.fields, chosen);
  }

  /**
   * One node's inputs: its flow inputs come from the form; the outputs of the nodes it depends on
   * come from the latest run of the flow that produced them.
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
      if (view) {
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

  /** Runs one node with the inputs of `nodeInputs`. */
  async runNode(uri: string, node: string): Promise<RunResult> {
    const inputs = await this.nodeInputs(uri, node);
    this.log.info(`Running node ${node} of ${vscode.Uri.parse(uri).fsPath} with ${JSON.stringify(inputs)}`);
    return this.execute("flowline.runNode", [uri, node, inputs], uri, node);
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

  async cancel(runId: string): Promise<void> {
    const stop = this.stoppers.get(runId);
    if (stop) {
      await stop();
      return;
    }
    await this.ready().sendRequest(ExecuteCommandRequest.type, { command: "flowline.cancelRun", arguments: [runId] });
  }

  clear(): void {
    this.history = this.history.filter((r) => this.running.has(r.runId));
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
