import * as assert from "node:assert/strict";
import { test } from "node:test";
import { addNodeEdit, downstream, inputNameProblem, literal, nodeAtLine, nodeKinds, nodeNameProblem,
  referenceChoices } from "../src/flowGraph";
import type { FlowGraph, GraphNode } from "../src/protocol";

const span = { start_line: 0, start_col: 0, end_line: 0, end_col: 0 };

function node(name: string, extra: Partial<GraphNode> = {}): GraphNode {
  return { name, type: "python", aggregation: false, use_variants: false, source: `${name}.py`, activate: null,
    inputs: {}, parameters: [], span, name_span: span, ...extra };
}

/** question → fetch → (summarize, classify) → answer; classify also reads the question. */
const graph: FlowGraph = {
  version: 3,
  inputs: [{ name: "question", type: "string", default: null, description: null, is_chat_history: false, span }],
  outputs: [{ name: "answer", reference: "${classify.output}", span }],
  nodes: [node("classify"), node("summarize"), node("fetch"), node("report", { aggregation: true })],
  edges: [
    { source: "inputs.question", target: "fetch", port: "url" },
    { source: "fetch", target: "summarize", port: "text" },
    { source: "summarize", target: "classify", port: "summary" },
    { source: "inputs.question", target: "classify", port: "question" },
    { source: "classify", target: "report", port: "results" },
    { source: "classify", target: "outputs.answer", port: "reference" },
  ],
};

test("reference choices: flow inputs and nodes that make no cycle, never aggregation nodes or itself", () => {
  assert.deepEqual([...downstream(graph, "summarize")].sort(), ["classify", "report"]);
  assert.deepEqual(referenceChoices(graph, "summarize"), ["${inputs.question}", "${fetch.output}"]);
  assert.deepEqual(referenceChoices(graph, "report"), ["${inputs.question}", "${classify.output}",
    "${summarize.output}", "${fetch.output}"]);
});

test("typed text becomes a value: JSON spellings are values, everything else a string", () => {
  assert.equal(literal("3"), 3);
  assert.equal(literal("-2.5"), -2.5);
  assert.equal(literal("true"), true);
  assert.equal(literal("null"), null);
  assert.deepEqual(literal('["a", 1]'), ["a", 1]);
  assert.deepEqual(literal('{"k": 1}'), { k: 1 });
  assert.equal(literal("${fetch.output}"), "${fetch.output}");
  assert.equal(literal("[not json"), "[not json");
  assert.equal(literal("hello world"), "hello world");
  assert.equal(literal("007x"), "007x");
});

test("node names: identifiers, not taken (a rename may keep its own name)", () => {
  assert.equal(nodeNameProblem(graph, "new_node"), null);
  assert.match(nodeNameProblem(graph, "fetch") ?? "", /already exists/);
  assert.equal(nodeNameProblem(graph, "fetch", "fetch"), null);
  assert.match(nodeNameProblem(graph, "2fast") ?? "", /not a valid node name/);
  assert.match(nodeNameProblem(graph, "a.b") ?? "", /not a valid node name/);
});

test("a `- name:` line belongs to the node it starts, not to the one before", () => {
  // web-classification's spans as the server gives them (0-based lines): each node runs up to the next `- name:`
  const spans: [string, number, number][] = [["fetch_text_content_from_url", 13, 20], ["summarize_text_content", 20, 22],
    ["prepare_examples", 22, 28], ["classify_with_llm", 28, 42], ["convert_to_dict", 42, 49]];
  const nodes = spans.map(([name, start, end]) => node(name, { span: { start_line: start, start_col: 2, end_line: end,
    end_col: 0 } }));
  assert.equal(nodeAtLine(nodes, 20), "summarize_text_content");  // line 21: `- name: summarize_text_content`
  assert.equal(nodeAtLine(nodes, 22), "prepare_examples");  // line 23: `- name: prepare_examples`
  assert.equal(nodeAtLine(nodes, 24), "prepare_examples");  // line 25: its `source:`
  assert.equal(nodeAtLine(nodes, 19), "fetch_text_content_from_url");  // its last input
  assert.equal(nodeAtLine(nodes, 49), undefined);  // `node_variants:`
  assert.equal(nodeAtLine(nodes, 3), undefined);  // `inputs:`
  const flowStyle = [node("a", { span: { start_line: 5, start_col: 2, end_line: 5, end_col: 40 } })];
  assert.equal(nodeAtLine(flowStyle, 5), "a");  // `- {name: a, ...}` on one line
});

test("the add-node menu offers the code types, then the package tools by name, and adds the chosen tool", () => {
  const withTools: FlowGraph = { ...graph, package_tools: [
    { id: "acme.search.Search.run", name: "Search", type: "python", description: "Searches the web." },
    { id: "acme.llm.ask", name: "Ask", type: "custom_llm", description: "" }] };
  assert.deepEqual(nodeKinds(withTools).map((k) => [k.group, k.value, k.label]), [
    ["Code", "python", "python"], ["Code", "llm", "llm"], ["Code", "prompt", "prompt"],
    ["Package tools", "package:acme.llm.ask", "Ask (acme.llm.ask)"],
    ["Package tools", "package:acme.search.Search.run", "Search (acme.search.Search.run)"]]);
  assert.equal(nodeKinds(withTools)[4].title, "Searches the web.");
  assert.deepEqual(addNodeEdit(withTools, "ask", "package:acme.llm.ask"),
    { kind: "addNode", name: "ask", type: "custom_llm", tool: "acme.llm.ask" });
  assert.deepEqual(addNodeEdit(withTools, "p", "prompt"), { kind: "addNode", name: "p", type: "prompt" });
  assert.deepEqual(nodeKinds(graph).map((k) => k.value), ["python", "llm", "prompt"]);
});

test("a new input's name: a Python name the node has not set (an unset tool parameter may be named)", () => {
  const shout = { ...node("shout", { inputs: { text: "${greet.output}" } }),
    parameters: [{ name: "times", annotation: "int", default: "1", required: false }] };
  assert.equal(inputNameProblem(shout, "loud"), null);
  assert.match(inputNameProblem(shout, "bad name") ?? "", /not a valid input name/);
  assert.match(inputNameProblem(shout, "2x") ?? "", /not a valid input name/);
  assert.match(inputNameProblem(shout, "text") ?? "", /already has an input 'text'/);
  assert.equal(inputNameProblem(shout, "times"), null);
});

test("a number too large for a double stays the text typed", () => {
  assert.equal(literal("1e400"), "1e400");
  assert.equal(literal("-1e400"), "-1e400");
  assert.equal(literal("1e300"), 1e300);
});
