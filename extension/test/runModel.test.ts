import * as assert from "node:assert/strict";
import { test } from "node:test";
import type { FlowEvent, RunResult } from "../src/protocol";
import { applyEvent, endRunning, failedToStart, formatDuration, formatTokens, forStorage, HISTORY_LIMIT,
  INSTALL_REQUIREMENTS, isClipped, restore, type RunHistory, runNotice, runTitle, SELECT_INTERPRETER, settle }
  from "../src/runModel";

const run = "hello_1";
const events: FlowEvent[] = [
  { type: "run_start", run_id: run, inputs: { name: "World" }, start: "t0", flow: "/f/hello/flow.dag.yaml" },
  { type: "node_start", run_id: run, node: "greet", inputs: { name: "World" }, start: "t1" },
  { type: "log", run_id: run, node: "greet", stream: "stdout", message: "rendering" },
  { type: "node_end", run_id: run, node: "greet", status: "Completed", output: "Hello", duration_ms: 0.7 },
  { type: "node_start", run_id: run, node: "ask", inputs: {}, start: "t2" },
  { type: "llm_token", run_id: run, node: "ask", message: "Hi" },
  { type: "llm_token", run_id: run, node: "ask", message: " there" },
  { type: "node_end", run_id: run, node: "ask", status: "Completed", output: "Hi there", duration_ms: 1200,
    tokens: { prompt: 8, completion: 2, total: 10 }, prompt: [{ role: "user", content: "Hello" }] },
  { type: "node_end", run_id: run, node: "skipped", status: "Bypassed", duration_ms: 0 },
  { type: "run_end", run_id: run, status: "Completed", output: { answer: "Hi there" }, duration_ms: 1300,
    tokens: { prompt: 8, completion: 2, total: 10 }, metrics: {}, failed_node: null },
];

function replay(list: FlowEvent[], history: RunHistory = []): RunHistory {
  return list.reduce(applyEvent, history);
}

test("a run's events build a tree of its nodes in execution order", () => {
  const [view] = replay(events);
  assert.equal(view.runId, run);
  assert.equal(view.flow, "/f/hello/flow.dag.yaml");
  assert.equal(view.status, "Completed");
  assert.deepEqual(view.outputs, { answer: "Hi there" });
  assert.deepEqual(view.nodes.map((n) => [n.name, n.status]), [["greet", "Completed"], ["ask", "Completed"],
    ["skipped", "Bypassed"]]);
  const [greet, ask] = view.nodes;
  assert.deepEqual(greet.logs, [{ stream: "stdout", message: "rendering" }]);
  assert.deepEqual(greet.inputs, { name: "World" });
  assert.equal(ask.streamed, "Hi there");
  assert.deepEqual(ask.prompt, [{ role: "user", content: "Hello" }]);
  assert.deepEqual(ask.tokens, { prompt: 8, completion: 2, total: 10 });
});

test("while running, a node is Running and the old history is left untouched", () => {
  const before = replay(events.slice(0, 2));
  const after = applyEvent(before, events[2]);
  assert.equal(before[0].nodes[0].status, "Running");
  assert.equal(before[0].nodes[0].logs.length, 0);
  assert.equal(after[0].nodes[0].logs.length, 1);
});

test("new runs go on top; events of unknown runs are ignored; nodes left running are canceled at the end", () => {
  const first = replay(events);
  const second = replay([
    { type: "run_start", run_id: "r2", flow: "/f/hello/flow.dag.yaml", node: "greet" },
    { type: "node_start", run_id: "r2", node: "greet" },
    { type: "node_end", run_id: "nobody", node: "greet", status: "Completed" },
    { type: "run_end", run_id: "r2", status: "Canceled" },
  ], first);
  assert.deepEqual(second.map((r) => r.runId), ["r2", run]);
  assert.equal(second[0].node, "greet");
  assert.equal(second[0].nodes[0].status, "Canceled");
});

test("a failed node keeps its error, the run names it", () => {
  const [view] = replay([
    { type: "run_start", run_id: "r3", flow: "/f/x/flow.dag.yaml" },
    { type: "node_end", run_id: "r3", node: "boom", status: "Failed",
      error: { type: "ValueError", message: "bad", file: "/f/x/boom.py", line: 4 } },
    { type: "run_end", run_id: "r3", status: "Failed", failed_node: "boom",
      error: { type: "ValueError", message: "bad" } },
  ]);
  assert.equal(view.failedNode, "boom");
  assert.deepEqual(view.nodes[0].error, { type: "ValueError", message: "bad", file: "/f/x/boom.py", line: 4 });
});

test("a run that never started is kept with its reason", () => {
  const [view] = failedToStart([], "/f/x/flow.dag.yaml", undefined, { type: "UsageError", message: "bad input" }, "n1");
  assert.equal(view.status, "Failed");
  assert.equal(view.error?.message, "bad input");
});

test("durations and tokens read short", () => {
  assert.equal(formatDuration(0.687), "0.7 ms");
  assert.equal(formatDuration(35.2), "35 ms");
  assert.equal(formatDuration(1234), "1.2 s");
  assert.equal(formatDuration(undefined), "");
  assert.equal(formatTokens({ prompt: 8, completion: 2, total: 10 }), "10 tokens (8 + 2)");
  assert.equal(formatTokens(undefined), "");
});

/** A run of two parallel nodes, both still running. */
const parallel: FlowEvent[] = [
  { type: "run_start", run_id: "p1", flow: "/f/parallel-wait/flow.dag.yaml", start: "t0", inputs: { seconds: 30 } },
  { type: "node_start", run_id: "p1", node: "left", start: "t1" },
  { type: "node_start", run_id: "p1", node: "right", start: "t1" },
  { type: "llm_token", run_id: "p1", node: "right", message: "thinking" },
];

test("a canceled run ends as Canceled, its running nodes too, whether or not its run_end arrives", () => {
  const canceled = replay([...parallel, { type: "node_end", run_id: "p1", node: "left", status: "Canceled" },
    { type: "node_end", run_id: "p1", node: "right", status: "Canceled" }, { type: "run_end", run_id: "p1",
      status: "Canceled", error: { type: "Canceled", message: "The run was canceled." } }]);
  assert.deepEqual([canceled[0].status, ...canceled[0].nodes.map((n) => n.status)], ["Canceled", "Canceled", "Canceled"]);
  const answered = settle(replay(parallel), { run_id: "p1", status: "Canceled", outputs: null,
    error: { type: "Canceled", message: "The run was canceled." } }, "/f/parallel-wait/flow.dag.yaml", undefined);
  assert.deepEqual([answered[0].status, ...answered[0].nodes.map((n) => n.status)], ["Canceled", "Canceled", "Canceled"]);
  assert.equal(answered[0].error?.message, "The run was canceled.");
});

test("an answer settles only what is still open: a finished run keeps its events, an unseen run is added", () => {
  const done = replay(events);
  assert.equal(settle(done, { run_id: run, status: "Failed", outputs: null }, "/f/hello/flow.dag.yaml", undefined),
    done);
  const missing: RunResult = { run_id: "web_1", status: "Failed", outputs: null, started: false,
    error: { type: "ModuleNotFoundError", message: "No module named 'bs4'" }, missing_module: "bs4" };
  const [added] = settle(done, missing, "/f/web/flow.dag.yaml", "fetch");
  assert.deepEqual([added.runId, added.flow, added.node, added.status, added.error?.message],
    ["web_1", "/f/web/flow.dag.yaml", "fetch", "Failed", "No module named 'bs4'"]);
  assert.equal(settle(done, { run_id: null, status: "NeedsInputs", outputs: null, needs: [] }, "/f", "x"), done);
});

test("when the server stops, its runs end as Failed with the reason; a debug session's run goes on", () => {
  const history = replay([...parallel, { type: "run_start", run_id: "dbg", flow: "/f/x/flow.dag.yaml" }]);
  const reason = { type: "Interrupted", message: "The Flowline language server stopped" };
  const [debug, lost] = endRunning(history, "Failed", reason, (r) => r.runId !== "dbg");
  assert.equal(debug.status, "Running");
  assert.deepEqual([lost.status, lost.error, lost.nodes.map((n) => n.status)], ["Failed", reason,
    ["Canceled", "Canceled"]]);
});

test("the workspace keeps the last runs with their trees; a run that was going on comes back as interrupted", () => {
  const many = Array.from({ length: HISTORY_LIMIT + 5 }, (_, i): FlowEvent =>
    ({ type: "run_start", run_id: `r${i}`, flow: "/f/hello/flow.dag.yaml" }));
  const history = replay([...events, ...many, ...parallel]);
  const stored = JSON.parse(JSON.stringify(forStorage(history))) as unknown;
  const reloaded = { type: "Interrupted", message: "The window closed or reloaded while the run was going on." };
  const back = restore(stored, reloaded);
  assert.equal(back.length, HISTORY_LIMIT);
  assert.deepEqual([back[0].runId, back[0].status, back[0].error, back[0].nodes.map((n) => n.status)],
    ["p1", "Failed", reloaded, ["Canceled", "Canceled"]]);
  const finished = replay(events)[0];  // the text an LLM node streamed is kept as its output, not twice
  assert.deepEqual(restore(JSON.parse(JSON.stringify(forStorage([finished]))), reloaded),
    JSON.parse(JSON.stringify([{ ...finished, nodes: finished.nodes.map((n) => ({ ...n, streamed: "" })) }])));
  assert.deepEqual(restore([{ runId: 3 }, "nonsense", null], reloaded), []);
  assert.deepEqual(restore(undefined, reloaded), []);
});

test("a missing package is told with what to do; a run that never started is told; others are not", () => {
  const missing: RunResult = { run_id: "w1", status: "Failed", outputs: null, started: false, missing_module: "bs4",
    error: { type: "ModuleNotFoundError", message: "Node 'fetch' could not load its tool: ..." } };
  const title = runTitle("/w/web-classification/flow.dag.yaml", undefined);
  assert.deepEqual(runNotice(missing, title, "/venv/bin/python", true), {
    message: "web-classification did not run: No module named 'bs4' (/venv/bin/python lacks that package).",
    actions: [INSTALL_REQUIREMENTS, SELECT_INTERPRETER] });
  assert.deepEqual(runNotice(missing, title, "/venv/bin/python", false)?.actions, [SELECT_INTERPRETER]);
  const refused: RunResult = { run_id: "w2", status: "Failed", outputs: null, started: false,
    error: { type: "InvalidFlow", message: "Node 'x' cannot run: ..." } };
  assert.deepEqual(runNotice(refused, runTitle("/w/f/flow.dag.yaml", "x"), undefined, true),
    { message: "f · node x did not run: Node 'x' cannot run: ...", actions: [] });
  assert.equal(runNotice({ ...refused, started: true }, title, undefined, true), undefined);  // the panel shows it
  assert.equal(runNotice({ run_id: "w3", status: "Canceled", outputs: null, started: true }, title, undefined, true),
    undefined);
});

test("a value the language server clipped is known by its marker, at any depth; other values are not", () => {
  const where = "run `flowline flow test --events FILE` for the whole value]";
  const text = `${"hello".repeat(13000)}… [4,935,000 more characters; ${where}`;  // as server/flowline/engine/clip.py cuts
  assert.equal(isClipped(text), true);
  assert.equal(isClipped({ out: [1, { deep: [`… [12 more items; ${where}`] }] }), true);
  assert.equal(isClipped({ a: 1, "…": `… [3 more keys; ${where}` }), true);
  assert.equal(isClipped(["hello", { n: 1, s: "… [sic]" }, null]), false);
  assert.equal(isClipped(`a value that ends like the marker: ${where}`), false);
  assert.equal(isClipped(`${text} and goes on`), false);
});
