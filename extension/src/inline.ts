/**
 * Run results inside flow.dag.yaml: after a run, each node's line ends with its status, duration and
 * tokens, and a failed node gets a diagnostic with the error at its name (cleared by the next run).
 */

import * as vscode from "vscode";
import type { GraphNode } from "./protocol";
import { formatDuration, formatTokens, type RunView } from "./runModel";
import type { Runs } from "./runs";
import { readSettings } from "./settings";

const MARKS: Record<string, string> = { Completed: "✓", Failed: "✗", Bypassed: "⤼", Canceled: "⊘", Running: "⟳" };

export class InlineResults implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: "0 0 0 2em", color: new vscode.ThemeColor("editorCodeLens.foreground") },
    isWholeLine: false,
  });
  private readonly diagnostics = vscode.languages.createDiagnosticCollection("flowline-runs");
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The latest finished run per flow file. */
  private readonly latest = new Map<string, RunView>();
  /** The run each editor shows, so that events of other runs (every streamed token) cost nothing here. */
  private readonly shown = new WeakMap<vscode.TextEditor, RunView>();

  constructor(private readonly runs: Runs) {
    this.subscriptions.push(
      runs.onDidChange(() => this.update()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.update()),
    );
  }

  private update(): void {
    for (const run of [...this.runs.history].reverse()) {
      if (run.status !== "Running" && run.nodes.length) {
        this.latest.set(run.flow, run);
      }
    }
    for (const editor of vscode.window.visibleTextEditors) {
      const run = this.latest.get(editor.document.uri.fsPath);
      if (run && this.shown.get(editor) !== run) {
        this.shown.set(editor, run);
        void this.decorate(editor, run);
      }
    }
  }

  private async decorate(editor: vscode.TextEditor, run: RunView): Promise<void> {
    if (!readSettings(editor.document.uri).inlineResults) {
      editor.setDecorations(this.decoration, []);
      return;
    }
    let nodes: GraphNode[];
    try {
      nodes = (await this.runs.graph(editor.document.uri.toString())).nodes;
    } catch {
      return;  // the server is not running: nothing to place
    }
    const decorations: vscode.DecorationOptions[] = [];
    const problems: vscode.Diagnostic[] = [];
    for (const view of run.nodes) {
      const node = nodes.find((n) => n.name === view.name);
      if (!node) {
        continue;
      }
      const span = node.name_span;
      const line = span.start_line;
      const end = editor.document.lineAt(Math.min(line, editor.document.lineCount - 1)).range.end;
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

  dispose(): void {
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.decoration.dispose();
    this.diagnostics.dispose();
  }
}
