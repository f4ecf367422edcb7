/**
 * Which run's inline results a flow.dag.yaml shows, and where they stand while the text is edited.
 * The latest finished run of the flow is shown, from the run history (so the results are back after
 * a reload, with the history). A result stands on its node's name (the `- name:` line) as the
 * language server reads the text now; an edit above it moves it with the lines and columns it
 * inserts or deletes, an edit that touches the name takes it away (the node was deleted, cut or
 * renamed), and once the language server has the edited text, results whose node is gone go too.
 * Pure (unit-tested in plain Node).
 */

import type { Span } from "./protocol";
import type { RunHistory, RunView } from "./runModel";

/** A node's run result, placed on the node's name. */
export interface Placed {
  node: string;
  span: Span;
}

/** One text change as VS Code reports it (`TextDocumentContentChangeEvent`): the range replaced and its new text. */
export interface TextChange {
  range: Span;
  text: string;
}

interface NamedNode {
  name: string;
  name_span: Span;
}

/**
 * The run whose results the flow file `flow` shows: the newest in `history` (newest first, as the run
 * history keeps it) that is of that file, finished and has nodes (a run that never started has none).
 */
export function latestFinished(history: RunHistory, flow: string): RunView | undefined {
  return history.find((run) => run.flow === flow && run.status !== "Running" && run.nodes.length > 0);
}

/** Results of the `names` nodes, placed on their names in the graph; nodes the graph lacks get none. */
export function place(names: readonly string[], nodes: readonly NamedNode[]): Placed[] {
  return names.flatMap((node) => {
    const found = nodes.find((n) => n.name === node);
    return found ? [{ node, span: found.name_span }] : [];
  });
}

/** The results whose node the flow still has (a graph of the edited text drops renamed and removed ones). */
export function keepPresent(placed: readonly Placed[], nodes: readonly NamedNode[]): Placed[] {
  return placed.filter((p) => nodes.some((n) => n.name === p.node));
}

/** True when position (line, col) is at or before (line2, col2). */
function atOrBefore(line: number, col: number, line2: number, col2: number): boolean {
  return line < line2 || (line === line2 && col <= col2);
}

/** Where a position after a change's range ends up once the change is made. */
function shifted(line: number, col: number, change: TextChange): { line: number; col: number } {
  const { start_line: startLine, start_col: startCol, end_line: endLine, end_col: endCol } = change.range;
  const inserted = change.text.split(/\r\n|\r|\n/);
  const added = inserted.length - 1;
  const last = inserted[added].length;
  if (line !== endLine) {
    return { line: line + added - (endLine - startLine), col };
  }
  return { line: startLine + added, col: (added === 0 ? startCol + last : last) + (col - endCol) };
}

/**
 * The placements after `changes`, applied in order, each to the text the one before left (as VS
 * Code lists a change event's changes): a change that ends at or before a name moves it, one that
 * starts at or after its end leaves it, one that overlaps it removes it.
 */
export function followEdits(placed: readonly Placed[], changes: readonly TextChange[]): Placed[] {
  let current = [...placed];
  for (const change of changes) {
    const { start_line: startLine, start_col: startCol, end_line: endLine, end_col: endCol } = change.range;
    current = current.flatMap((p) => {
      const { start_line: line, start_col: col, end_line: lastLine, end_col: lastCol } = p.span;
      if (atOrBefore(endLine, endCol, line, col)) {
        const start = shifted(line, col, change);
        const end = shifted(lastLine, lastCol, change);
        return [{ node: p.node, span: { start_line: start.line, start_col: start.col, end_line: end.line,
          end_col: end.col } }];
      }
      return atOrBefore(lastLine, lastCol, startLine, startCol) ? [p] : [];
    });
  }
  return current;
}
