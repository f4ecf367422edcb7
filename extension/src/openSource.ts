/**
 * Opens a node's source at its entry: a tool file at its `@tool` function, a template at its first line.
 * The graph's `source_line` says where or, from a server older than it, the language server's go to
 * definition on the node's name (both from service/navigate.py), so the text editor's F12 and this agree.
 * From the flow's text the file opens in the same group; from the visual editor in the group beside it,
 * reusing one that exists (editorGroups.ts).
 */

import * as path from "path";
import * as vscode from "vscode";
import { besideColumn } from "./editorGroups";
import type { GraphNode } from "./protocol";

/**
 * Shows `node`'s source file of the flow `flow`. `from`: the view column of the visual editor asking,
 * undefined from the text editor. `shown`: the file the visual editor shows for the node (a variant's, when one
 * is looked at; it must be one of the node's) and the line the graph gives; without a line, the language server's
 * go to definition says where. Does nothing for a node without a source (a package tool).
 */
export async function openNodeSource(flow: vscode.TextDocument, node: GraphNode, from?: vscode.ViewColumn,
  shown?: { file?: string; line?: number }): Promise<void> {
  const own = [node.source, ...(node.variants ?? []).map((v) => v.source)];
  const relative = shown?.file && own.includes(shown.file) ? shown.file : node.source;
  if (!relative) {
    return;
  }
  const file = vscode.Uri.file(path.join(path.dirname(flow.uri.fsPath), relative));
  const given = relative === shown?.file && typeof shown.line === "number" && shown.line >= 0 ? shown.line : undefined;
  const start = given !== undefined ? new vscode.Position(given, 0) : await definitionStart(flow, node, file);
  const column = from === undefined ? vscode.ViewColumn.Active
    : besideColumn(from, vscode.window.tabGroups.all.map((g) => g.viewColumn)) ?? vscode.ViewColumn.Beside;
  await vscode.window.showTextDocument(file, { viewColumn: column, selection: new vscode.Range(start, start),
    preview: false });
}

/** Where go to definition on the node's name goes in `file`, else the file's start. */
async function definitionStart(flow: vscode.TextDocument, node: GraphNode, file: vscode.Uri): Promise<vscode.Position> {
  const found = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[] | undefined>(
    "vscode.executeDefinitionProvider", flow.uri, new vscode.Position(node.name_span.start_line,
      node.name_span.start_col)).then((locations) => locations ?? [], () => []);
  const entry = found.map((l) => "targetUri" in l ? new vscode.Location(l.targetUri, l.targetSelectionRange
    ?? l.targetRange) : l).find((l) => l.uri.fsPath === file.fsPath);
  return entry?.range.start ?? new vscode.Position(0, 0);
}
