/**
 * Run results inside flow.dag.yaml: after a run, each node's line ends with its status, duration and
 * tokens, and a failed node gets a diagnostic with the error at its name (cleared by the next run).
 * They come from the run history, so a reloaded window shows them again once the language server
 * is there to place them. The results follow edits (inlinePlacement.ts): they move with the lines
 * above them and leave with their node.
 */

import * as vscode from "vscode";
import { followEdits, keepPresent, latestFinished, place, type Placed } from "./inlinePlacement";
import type { FlowGraph, Span } from "./protocol";
import { formatDuration, formatTokens, type RunView } from "./runModel";
import type { Runs } from "./runs";
import { readSettings } from "./settings";

const MARKS: Record<string, string> = { Completed: "✓", Failed: "✗", Bypassed: "⤼", Canceled: "⊘", Running: "⟳" };
/** How long after the last edit the server is asked which nodes the flow still has. */
const RECHECK_MS = 400;

/** What a flow document shows: a run's results, and where they stand. */
interface Shown {
  run: RunView;
  placed: Placed[];
}

function toSpan(range: vscode.Range): Span {
  return { start_line: range.start.line, start_col: range.start.character, end_line: range.end.line,
    end_col: range.end.character };
}

export class InlineResults implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: "0 0 0 2em", color: new vscode.ThemeColor("editorCodeLens.foreground") },
    isWholeLine: false,
  });
  private readonly diagnostics = vscode.languages.createDiagnosticCollection("flowline-runs");
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The results each flow document (by URI) shows. */
  private readonly shown = new Map<string, Shown>();
  /** The placing each editor draws, so that events of other runs (every streamed token) cost nothing here. */
  private readonly drawn = new WeakMap<vscode.TextEditor, Placed[]>();
  private readonly rechecks = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly runs: Runs) {
    this.subscriptions.push(
      runs.onDidChange(() => this.update()),
      runs.onDidAttach(() => this.update()),  // after a reload: the restored history's results can be placed now
      vscode.window.onDidChangeVisibleTextEditors(() => this.update()),
      vscode.workspace.onDidChangeTextDocument((event) => this.edited(event)),
      vscode.workspace.onDidCloseTextDocument((document) => this.forget(document.uri.toString())),
    );
  }

  private update(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const run = latestFinished(this.runs.history, editor.document.uri.fsPath);
      const shown = this.shown.get(editor.document.uri.toString());
      if (run && shown?.run !== run) {
        void this.place(editor.document, run);
      } else if (shown && this.drawn.get(editor) !== shown.placed) {
        this.draw(editor, shown);  // an editor that shows the document now
      }
    }
  }

  /** Places a run's results on the names of its nodes as the server reads them now. */
  private async place(document: vscode.TextDocument, run: RunView): Promise<void> {
    const uri = document.uri.toString();
    const shown: Shown = { run, placed: [] };
    this.shown.set(uri, shown);  // before the request: the updates meanwhile ask for no second one
    const version = document.version;
    let graph: FlowGraph;
    try {
      graph = await this.runs.graph(uri);
    } catch {
      this.shown.delete(uri);  // the server is not running: nothing to place (the next update tries again)
      return;
    }
    if (this.shown.get(uri) !== shown) {
      return;  // closed, or another run's results came meanwhile
    }
    if (document.version !== version) {
      // Edited meanwhile: the spans are of an older text, and the edits could not move results not yet placed.
      this.shown.delete(uri);
      this.update();
      return;
    }
    shown.placed = place(run.nodes.map((n) => n.name), graph.nodes);
    this.drawDocument(uri);
  }

  /** Moves the results with an edit at once; asks the server which nodes remain once the typing stops. */
  private edited(event: vscode.TextDocumentChangeEvent): void {
    const uri = event.document.uri.toString();
    const shown = this.shown.get(uri);
    if (!shown || !event.contentChanges.length) {
      return;
    }
    shown.placed = followEdits(shown.placed, event.contentChanges.map((c) => ({ range: toSpan(c.range), text: c.text })));
    this.drawDocument(uri);
    clearTimeout(this.rechecks.get(uri));
    this.rechecks.set(uri, setTimeout(() => void this.recheck(event.document, shown), RECHECK_MS));
  }

  /** Drops the results of nodes the edited flow no longer has (renamed, or removed without touching their name). */
  private async recheck(document: vscode.TextDocument, shown: Shown): Promise<void> {
    const uri = document.uri.toString();
    this.rechecks.delete(uri);
    let graph: FlowGraph;
    try {
      graph = await this.runs.graph(uri);
    } catch {
      return;  // the server is not running: the results stay where the edits moved them
    }
    // Edited meanwhile (that edit's own recheck follows), or another run's results came.
    if (graph.version === document.version && this.shown.get(uri) === shown) {
      shown.placed = keepPresent(shown.placed, graph.nodes);
      this.drawDocument(uri);
    }
  }

  private drawDocument(uri: string): void {
    const shown = this.shown.get(uri);
    for (const editor of vscode.window.visibleTextEditors) {
      if (shown && editor.document.uri.toString() === uri) {
        this.draw(editor, shown);
      }
    }
  }

  private draw(editor: vscode.TextEditor, shown: Shown): void {
    this.drawn.set(editor, shown.placed);
    if (!readSettings(editor.document.uri).inlineResults) {
      editor.setDecorations(this.decoration, []);
      return;
    }
    const decorations: vscode.DecorationOptions[] = [];
    const problems: vscode.Diagnostic[] = [];
    for (const { node, span } of shown.placed) {
      const view = shown.run.nodes.find((n) => n.name === node);
      if (!view) {
        continue;
      }
      const end = editor.document.lineAt(Math.min(span.start_line, editor.document.lineCount - 1)).range.end;
      const text = [`${MARKS[view.status] ?? ""} ${view.status}`, formatDuration(view.durationMs),
        formatTokens(view.tokens)].filter(Boolean).join(" · ");
      decorations.push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: text } } });
      if (view.status === "Failed" && view.error) {
        const range = new vscode.Range(span.start_line, span.start_col, span.end_line, span.end_col);
        const where = view.error.file ? ` (${view.error.file}${view.error.line ? `:${view.error.line}` : ""})` : "";
        const diagnostic = new vscode.Diagnostic(range, `Run failed in node '${view.name}': ${view.error.type}: `
          + `${view.error.message}${where}`, vscode.DiagnosticSeverity.Error);
        diagnostic.source = "flowline run";
        problems.push(diagnostic);
      }
    }
    editor.setDecorations(this.decoration, decorations);
    this.diagnostics.set(editor.document.uri, problems);
  }

  /** Forgets a closed document's placing (it is placed again from the server when it opens again). */
  private forget(uri: string): void {
    this.shown.delete(uri);
    clearTimeout(this.rechecks.get(uri));
    this.rechecks.delete(uri);
  }

  dispose(): void {
    for (const timer of this.rechecks.values()) {
      clearTimeout(timer);
    }
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.decoration.dispose();
    this.diagnostics.dispose();
  }
}
