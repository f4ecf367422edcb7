import * as assert from "node:assert/strict";
import { test } from "node:test";
import { followEdits, keepPresent, latestFinished, place, type Placed, type TextChange } from "../src/inlinePlacement";
import type { FlowEvent, Span } from "../src/protocol";
import { applyEvent, forStorage, restore, type RunHistory } from "../src/runModel";

function span(line: number, start: number, end: number): Span {
  return { start_line: line, start_col: start, end_line: line, end_col: end };
}

function change(startLine: number, startCol: number, endLine: number, endCol: number, text: string): TextChange {
  return { range: { start_line: startLine, start_col: startCol, end_line: endLine, end_col: endCol }, text };
}

// hello/flow.dag.yaml: `- name: greet` on line 16 (name at columns 8-13), `- name: shout` on line 23.
const greet: Placed = { node: "greet", span: span(16, 8, 13) };
const shout: Placed = { node: "shout", span: span(23, 8, 13) };
const nodes = [{ name: "greet", name_span: span(16, 8, 13) }, { name: "shout", name_span: span(23, 8, 13) }];

const lines = (placed: Placed[]) => placed.map((p) => [p.node, p.span.start_line, p.span.start_col]);

test("results are placed on their nodes' names; a node the graph lacks gets none", () => {
  assert.deepEqual(place(["shout", "gone", "greet"], nodes), [shout, greet]);
});

test("deleting a node's lines takes its result away, and the next node's result moves up", () => {
  // Lines 16-22 (the node greet) deleted, the way "Delete Line" or the visual editor's remove does.
  assert.deepEqual(lines(followEdits([greet, shout], [change(16, 0, 23, 0, "")])), [["shout", 16, 8]]);
});

test("lines inserted or deleted above move the results; edits below or after the name leave them", () => {
  assert.deepEqual(lines(followEdits([greet, shout], [change(2, 0, 2, 0, "# one\n# two\n")])),
    [["greet", 18, 8], ["shout", 25, 8]]);
  assert.deepEqual(lines(followEdits([greet, shout], [change(3, 0, 5, 0, "")])), [["greet", 14, 8], ["shout", 21, 8]]);
  assert.deepEqual(lines(followEdits([greet, shout], [change(20, 4, 20, 9, "x")])), [["greet", 16, 8], ["shout", 23, 8]]);
  assert.deepEqual(lines(followEdits([greet], [change(16, 13, 16, 13, "  # a comment")])), [["greet", 16, 8]]);
});

test("an edit on the name's line before the name moves it along the line, or down with a line break", () => {
  assert.deepEqual(followEdits([greet], [change(16, 0, 16, 0, "  ")]), [{ node: "greet", span: span(16, 10, 15) }]);
  assert.deepEqual(followEdits([greet], [change(16, 0, 16, 0, "# note\n")]), [{ node: "greet", span: span(17, 8, 13) }]);
  assert.deepEqual(followEdits([greet], [change(15, 3, 16, 2, "")]), [{ node: "greet", span: span(15, 9, 14) }]);
});

test("an edit that touches the name (rename, cut, a deleted line) takes the result away", () => {
  assert.deepEqual(followEdits([greet], [change(16, 10, 16, 11, "")]), []);
  assert.deepEqual(followEdits([greet], [change(16, 0, 17, 0, "")]), []);
  assert.deepEqual(followEdits([greet], [change(10, 0, 30, 0, "nodes: []\n")]), []);
});

test("the changes of one event apply in order, each to the text the one before left", () => {
  // Two cursors, VS Code lists the later position first: a line inserted at 20, then one at 2.
  assert.deepEqual(lines(followEdits([greet, shout], [change(20, 0, 20, 0, "\n"), change(2, 0, 2, 0, "\n")])),
    [["greet", 17, 8], ["shout", 25, 8]]);
  assert.deepEqual(lines(followEdits([greet], [change(2, 0, 2, 0, "a\r\nb\r\n")])), [["greet", 18, 8]]);
});

test("once the server has the edited text, results of nodes it no longer has are dropped", () => {
  assert.deepEqual(keepPresent([greet, shout], [{ name: "shout", name_span: span(9, 8, 13) }]), [shout]);
});

test("a flow shows its latest finished run with nodes, from the history a reload restores", () => {
  const flow = "/w/hello/flow.dag.yaml";
  const run = (id: string, file: string, end?: FlowEvent["status"]): FlowEvent[] => [
    { type: "run_start", run_id: id, flow: file }, { type: "node_start", run_id: id, node: "greet" },
    ...(end ? [{ type: "node_end", run_id: id, node: "greet", status: end } as FlowEvent,
      { type: "run_end", run_id: id, status: end } as FlowEvent] : [])];
  const history: RunHistory = [...run("old", flow, "Completed"), ...run("latest", flow, "Failed"),
    ...run("other", "/w/other/flow.dag.yaml", "Completed"), ...run("going", flow)].reduce(applyEvent, [] as RunHistory);
  const notStarted = { runId: "not-started-1", flow, status: "Failed" as const, nodes: [] };
  assert.equal(latestFinished([notStarted, ...history], flow)?.runId, "latest");  // not the running one, nor one without nodes
  assert.equal(latestFinished(history, "/w/none/flow.dag.yaml"), undefined);
  const reloaded = restore(JSON.parse(JSON.stringify(forStorage(history))),
    { type: "Interrupted", message: "The window closed or reloaded while the run was going on; run it again." });
  const shown = latestFinished(reloaded, flow);  // the run that was going on ended with the reload: it is the latest
  assert.deepEqual([shown?.runId, shown?.status, shown?.nodes.map((n) => [n.name, n.status])],
    ["going", "Failed", [["greet", "Canceled"]]]);
  assert.deepEqual(place(shown?.nodes.map((n) => n.name) ?? [], nodes), [greet]);  // on the name as the text has it now
});
