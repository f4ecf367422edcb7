import * as assert from "node:assert/strict";
import { test } from "node:test";
import { connectVerdict } from "../src/graphConnect";
import { ACTIVATE } from "../src/graphModel";
import { webClassification } from "./graphFixtures";

test("a node's output to another node's input is a connect edit, a free parameter included", () => {
  assert.deepEqual(connectVerdict(webClassification(), "fetch_text_content_from_url", "convert_to_dict", "strict"),
    { ok: true, edit: { kind: "connect", from: "fetch_text_content_from_url", to: "convert_to_dict", input: "strict" } });
});

test("a flow input to a node's input sets the input to ${inputs.x}", () => {
  assert.deepEqual(connectVerdict(webClassification(), "inputs.url", "prepare_examples", "url"),
    { ok: true, edit: { kind: "setInput", node: "prepare_examples", input: "url", value: "${inputs.url}" } });
});

test("a connection that would make a cycle is refused with the reason", () => {
  const verdict = connectVerdict(webClassification(), "convert_to_dict", "summarize_text_content", "text");
  assert.deepEqual(verdict, { ok: false, reason: "Connecting 'convert_to_dict' to 'summarize_text_content' would "
    + "make a cycle: 'convert_to_dict' already depends on 'summarize_text_content'." });
  assert.equal(connectVerdict(webClassification(), "score", "score", "results").ok, false);
});

test("a line node may not read an aggregation node; an aggregation node may", () => {
  const graph = webClassification();
  graph.nodes.push({ ...graph.nodes[2], name: "report", aggregation: true }, { ...graph.nodes[2], name: "lonely" });
  const verdict = connectVerdict(graph, "score", "lonely", "x");
  assert.equal(verdict.ok, false);
  assert.match(verdict.ok ? "" : verdict.reason, /runs once per line and cannot read the aggregation node 'score'/);
  assert.equal(connectVerdict(graph, "score", "report", "x").ok, true);
});

test("outputs, activate handles and connections already made are refused", () => {
  const graph = webClassification();
  assert.match(JSON.stringify(connectVerdict(graph, "score", "outputs.category", "reference")), /set in the text/);
  assert.match(JSON.stringify(connectVerdict(graph, "score", "convert_to_dict", ACTIVATE)), /activate condition/);
  assert.match(JSON.stringify(connectVerdict(graph, "classify_with_llm", "convert_to_dict", "input_str")),
    /already reads/);
  assert.match(JSON.stringify(connectVerdict(graph, "inputs.url", "fetch_text_content_from_url", "url")),
    /already reads/);
});

test("a node's input named activate or reference takes a connection like any other", () => {
  const graph = webClassification();
  const convert = graph.nodes.find((n) => n.name === "convert_to_dict");
  assert.ok(convert);
  convert.parameters = [...convert.parameters, { name: "activate", annotation: null, default: null, required: false },
    { name: "reference", annotation: null, default: null, required: false }];
  assert.equal(connectVerdict(graph, "inputs.url", "convert_to_dict", "activate").ok, true);
  assert.equal(connectVerdict(graph, "inputs.url", "convert_to_dict", "reference").ok, true);
});
