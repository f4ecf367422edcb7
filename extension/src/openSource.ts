/**
 * Opens a node's source at its entry: a tool file at its `@tool` function, a template at its first
 * line. The language server's go to definition on the node's name says where (service/navigate.py), so
 * the text editor's F12 and this agree. From the flow's text the file opens in the same group; from
 * the visual editor in the group beside it, reusing one that exists (editorGroups.ts).
 */

import * as path from "path";
import * as vscode from "vscode";
import { besideColumn } from "./editorGroups";
import type { GraphNode } from "./protocol";

/**
 * Shows `node`'s source file of the flow `flow`. `from`: the view column of the visual editor asking,
 * undefined from the text editor. Does nothing for a node without a source (one with variants).
 */
export async function openNodeSource(flow: vscode.TextDocument, node: GraphNode, from?: vscode.ViewColumn)
  : Promise<void> {
  if (!node.source) {
    return;
  }
  const file = vscode.Uri.file(path.join(path.dirname(flow.uri.fsPath), node.source));
  const found = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[] | undefined>(
    "vscode.executeDefinitionProvider", flow.uri, new vscode.Position(node.name_span.start_line,
      node.name_span.start_col)).then((locations) => locations ?? [], () => []);
  const entry = found.map((l) => "targetUri" in l ? new vscode.Location(l.targetUri, l.targetSelectionRange
    ?? l.targetRange) : l).find((l) => l.uri.fsPath === file.fsPath);
  const start = entry?.range.start ?? new vscode.Position(0, 0);
  const column = from === undefined ? vscode.ViewColumn.Active
    : besideColumn(from, vscode.window.tabGroups.all.map((g) => g.viewColumn)) ?? vscode.ViewColumn.Beside;
  await vscode.window.showTextDocument(file, { viewColumn: column, selection: new vscode.Range(start, start),
    preview: false });
}
