import * as assert from "node:assert/strict";
import { test } from "node:test";
import type { FlowEvent } from "../src/protocol";
import { applyEvent, failedToStart, formatDuration, formatTokens, type RunHistory } from "../src/runModel";

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
