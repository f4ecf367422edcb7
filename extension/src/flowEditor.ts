/**
 * The visual editor: a custom text editor for flow.dag.yaml that draws the flow as a graph and edits
 * it through the language server's `flowline.editFlow` (so the text stays the truth: every change is
 * a text edit VS Code can undo, and comments elsewhere survive). It redraws on every change of the
 * text, of the file's diagnostics and of the runs.
 */

import * as path from "path";
import * as vscode from "vscode";
import { ExecuteCommandRequest, type WorkspaceEdit } from "vscode-languageclient/node";
import type { FromFlowEditor, NodeProblem, NodeRun, ToFlowEditor } from "./editorMessages";
import { nodeAtLine } from "./flowGraph";
import type { FlowEdit, FlowGraph, Span } from "./protocol";
import { openNodeSource } from "./openSource";
import { FLOW_EDITOR_PAGE } from "./pageHtml";
import type { FlowlineServer } from "./python";
import { reportError } from "./report";
import type { Runs } from "./runs";
import { webviewHtml } from "./webviewHtml";

export const FLOW_EDITOR = "flowline.flowEditor";

const SEVERITY: Record<number, NodeProblem["severity"]> = {
  [vscode.DiagnosticSeverity.Error]: "error", [vscode.DiagnosticSeverity.Warning]: "warning",
};

/** Opens a flow in the visual editor, beside the text (the command `flowline.openVisualEditor`). */
export async function openVisualEditor(provider: FlowEditorProvider, argument: unknown, node: unknown): Promise<void> {
  let uri = typeof argument === "string" ? vscode.Uri.parse(argument) : argument instanceof vscode.Uri ? argument
    : vscode.window.activeTextEditor?.document.uri;
  if (!uri || !/flow\.dag\.ya?ml$/.test(uri.path)) {
    const picked = await vscode.window.showOpenDialog({ filters: { "Flow": ["yaml", "yml"] }, canSelectMany: false,
      openLabel: "Open in the visual editor" });
    uri = picked?.[0];
  }
  if (!uri) {
    return;
  }
  const beside = vscode.window.activeTextEditor?.document.uri.toString() === uri.toString();
  await vscode.commands.executeCommand("vscode.openWith", uri, FLOW_EDITOR,
    beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active);
  if (typeof node === "string") {
    provider.select(uri, node);
  }
}

/** One open visual editor: its document, its webview, and what it showed last. */
class Session implements vscode.Disposable {
  private graph: FlowGraph | undefined;
  private problems: Record<string, NodeProblem[]> = {};
  private ready = false;
  private pendingSelect: string | undefined;
  private refreshing: ReturnType<typeof setTimeout> | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(readonly document: vscode.TextDocument, readonly panel: vscode.WebviewPanel,
              private readonly server: FlowlineServer, private readonly runs: Runs,
              private readonly log: vscode.LogOutputChannel) {}

  listen(): void {
    const uri = this.document.uri.toString();
    this.subscriptions.push(
      this.panel.webview.onDidReceiveMessage((message: FromFlowEditor) => void this.receive(message)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document.uri.toString() === uri && event.contentChanges.length) {
          this.refresh();
        }
      }),
      vscode.languages.onDidChangeDiagnostics((event) => {
        if (event.uris.some((u) => u.toString() === uri)) {
          this.post();
        }
      }),
      this.runs.onDidChange(() => this.post()),
      this.server.onDidStart(() => this.refresh()),
    );
  }

  /** Asks the server for the graph again (coalescing a burst of changes into one request). */
  refresh(): void {
    if (this.refreshing !== undefined) {
      clearTimeout(this.refreshing);
    }
    this.refreshing = setTimeout(() => {
      this.refreshing = undefined;
      void this.load();
    }, 30);
  }

  private async load(): Promise<void> {
    try {
      this.graph = await this.runs.graph(this.document.uri.toString());
      this.post();
    } catch (error) {
      this.send({ type: "unavailable", reason: error instanceof Error ? error.message : String(error) });
    }
  }

  select(id: string): void {
    if (this.ready) {
      this.send({ type: "select", id });
    } else {
      this.pendingSelect = id;
    }
  }

  private send(message: ToFlowEditor): void {
    void this.panel.webview.postMessage(message);
  }

  private post(): void {
    if (!this.graph || !this.ready) {
      return;
    }
    const flow = this.document.uri.fsPath;
    const runs: Record<string, NodeRun> = {};
    for (const run of this.runs.history) {  // newest first: the first word on a node is the latest
      if (run.flow !== flow) {
        continue;
      }
      for (const node of run.nodes) {
        runs[node.name] ??= { status: node.status, durationMs: node.durationMs, tokens: node.tokens?.total,
          error: node.error ? `${node.error.type}: ${node.error.message}` : undefined };
      }
    }
    if (this.graph.version === this.document.version) {  // else its spans are old: keep the last placing
      this.problems = {};
      for (const diagnostic of vscode.languages.getDiagnostics(this.document.uri)) {
        const line = diagnostic.range.start.line;
        const node = nodeAtLine(this.graph.nodes, line);
        const code = typeof diagnostic.code === "object" ? diagnostic.code.value : diagnostic.code;
        (this.problems[node ?? ""] ??= []).push({ severity: SEVERITY[diagnostic.severity] ?? "info",
          message: diagnostic.message, code: code === undefined ? undefined : String(code) });
      }
    }
    const running = this.runs.history.some((r) => r.flow === flow && this.runs.running.has(r.runId));
    this.send({ type: "graph", name: path.basename(path.dirname(flow)), graph: this.graph, runs,
      problems: this.problems, running });
  }

  private async receive(message: FromFlowEditor): Promise<void> {
    const uri = this.document.uri.toString();
    try {
      switch (message.type) {
        case "ready":
          this.ready = true;
          await this.load();
          if (this.pendingSelect) {
            this.send({ type: "select", id: this.pendingSelect });
            this.pendingSelect = undefined;
          }
          break;
        case "edit":
          await this.edit(message.edit, message.version);
          break;
        case "remove": {
          const answer = await vscode.window.showWarningMessage(`Delete the node '${message.node}'?`, {
            modal: true, detail: "Its lines leave flow.dag.yaml; references to it are then reported as problems. "
              + "Undo brings it back." }, "Delete");
          if (answer === "Delete") {
            await this.edit({ kind: "removeNode", name: message.node }, message.version);
          }
          break;
        }
        case "reveal":
          await this.reveal(message.id, message.preserveFocus ?? false);
          break;
        case "openSource": {
          const node = this.graph?.nodes.find((n) => n.name === message.node);
          if (node) {
            await openNodeSource(this.document, node, this.panel.viewColumn, message);
          }
          break;
        }
        case "runFlow":
        case "debugFlow":
        case "openChat":
          await vscode.commands.executeCommand(`flowline.${message.type}`, uri);
          break;
        case "runNode":
        case "debugNode":
          await vscode.commands.executeCommand(`flowline.${message.type}`, uri, message.node);
          break;
        case "createConnection":
          await vscode.commands.executeCommand("flowline.createConnection");
          this.refresh();  // the text did not change, so nothing else asks for the new list of connections
          break;
      }
    } catch (error) {
      reportError(this.log, error, "Visual editor");
    }
  }

  /** Applies an edit as the server spells it; files it creates are saved so the server reads them. */
  private async edit(edit: FlowEdit, version: number | null): Promise<void> {
    const client = this.runs.ready();
    const answer: WorkspaceEdit = await client.sendRequest(ExecuteCommandRequest.type, { command: "flowline.editFlow",
      arguments: [this.document.uri.toString(), { ...edit, version: version ?? this.document.version }] });
    const workspaceEdit = await client.protocol2CodeConverter.asWorkspaceEdit(answer);
    if (!workspaceEdit || !await vscode.workspace.applyEdit(workspaceEdit)) {
      throw new Error(`The edit '${edit.kind}' did not apply (the flow changed meanwhile?).`);
    }
    const flow = this.document.uri.toString();
    for (const [file] of workspaceEdit.entries()) {
      const opened = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file.toString());
      if (opened && opened.uri.toString() !== flow && opened.isDirty) {
        await opened.save();  // a new tool file; the flow itself stays unsaved, as any edit leaves it
      }
    }
  }

  /** Shows an element's lines in the flow's text editor (the one already visible, else a new one beside). */
  private async reveal(id: string, preserveFocus: boolean): Promise<void> {
    const graph = this.graph;
    let span: Span | undefined;
    if (id.startsWith("inputs.")) {
      span = graph?.inputs.find((i) => `inputs.${i.name}` === id)?.span;
    } else if (id.startsWith("outputs.")) {
      span = graph?.outputs.find((o) => `outputs.${o.name}` === id)?.span;
    } else {
      span = graph?.nodes.find((n) => n.name === id)?.name_span;
    }
    const range = span ? new vscode.Range(span.start_line, span.start_col, span.end_line, span.end_col)
      : new vscode.Range(0, 0, 0, 0);
    const shown = vscode.window.visibleTextEditors.find((e) => e.document === this.document);
    await vscode.window.showTextDocument(this.document, { viewColumn: shown?.viewColumn ?? vscode.ViewColumn.Beside,
      selection: range, preview: false, preserveFocus });
  }

  dispose(): void {
    if (this.refreshing !== undefined) {
      clearTimeout(this.refreshing);
    }
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }
}

export class FlowEditorProvider implements vscode.CustomTextEditorProvider {
  private readonly sessions = new Set<Session>();

  constructor(private readonly extensionUri: vscode.Uri, private readonly server: FlowlineServer,
              private readonly runs: Runs, private readonly log: vscode.LogOutputChannel) {}

  resolveCustomTextEditor(document: vscode.TextDocument, panel: vscode.WebviewPanel): void {
    const dist = vscode.Uri.joinPath(this.extensionUri, "dist", "webview");
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    panel.webview.html = webviewHtml(panel.webview, dist, "flowEditor", "Flowline visual editor", FLOW_EDITOR_PAGE);
    const session = new Session(document, panel, this.server, this.runs, this.log);
    session.listen();
    this.sessions.add(session);
    panel.onDidDispose(() => {
      this.sessions.delete(session);
      session.dispose();
    });
  }

  /** Selects a node (or `inputs.x` / `outputs.y`) in the visual editors of a flow. */
  select(uri: vscode.Uri, id: string): void {
    for (const session of this.sessions) {
      if (session.document.uri.toString() === uri.toString()) {
        session.select(id);
      }
    }
  }
}
