import * as assert from "node:assert/strict";
import { test } from "node:test";
import { apiChoices, choices, connectionChoices, connectionHint, listedProblems, modelInput, modelMissing, modelParameters, parameterValue,
  placeholderFor } from "../src/llmFields";
import type { FlowGraph, GraphNode, LlmParameter } from "../src/protocol";

const span = { start_line: 0, start_col: 0, end_line: 0, end_col: 0 };

function llm(inputs: Record<string, unknown>, extra: Partial<GraphNode> = {}): GraphNode {
  return { name: "ask", type: "llm", aggregation: false, use_variants: false, source: "ask.jinja2", activate: null,
    inputs, parameters: [], span, name_span: span, connection: "local", api: "chat", ...extra };
}

function parameter(name: string, type: string, completion_only = false): LlmParameter {
  return { name, type, description: `About ${name}.`, completion_only };
}

// A slice of server/flowline/flow/llm_parameters.py, in its order.
const table = [parameter("deployment_name", "string"), parameter("model", "string"), parameter("temperature", "double"),
  parameter("max_tokens", "int"), parameter("stop", "list"), parameter("response_format", "object"),
  parameter("suffix", "string", true)];

const graph: FlowGraph = { version: 1, inputs: [], outputs: [], nodes: [], edges: [], connections: ["azure", "local"],
  llm_parameters: table };

const picked = (options: { value: string; selected: boolean }[]) => options.filter((o) => o.selected).map((o) => o.value);

test("the connection picker lists the stored connections with the node's selected", () => {
  const options = connectionChoices(graph, llm({}));
  assert.deepEqual(options.map((o) => o.label), ["azure", "local"]);
  assert.deepEqual(picked(options), ["local"]);
  assert.ok(options.every((o) => !o.unknown));
});

test("a connection that is not stored comes first, flagged; no connection selects a placeholder", () => {
  const options = connectionChoices(graph, llm({}, { connection: "gone" }));
  assert.deepEqual(options.map((o) => [o.label, o.selected, o.unknown]), [["gone (not stored)", true, true],
    ["azure", false, false], ["local", false, false]]);
  assert.deepEqual(connectionChoices(graph, llm({}, { connection: null })).map((o) => [o.value, o.label, o.selected]),
    [["", "(none)", true], ["azure", "azure", false], ["local", "local", false]]);
  assert.deepEqual(connectionChoices({ ...graph, connections: undefined }, llm({}, { connection: undefined }))
    .map((o) => o.label), ["(none)"]);  // an older server: nothing known, nothing set
  assert.deepEqual(choices([], "local", "not stored").map((o) => o.label), ["local (not stored)"]);
});

test("the hint under the picker: how to create a connection when none is stored, or that the node's is not", () => {
  assert.equal(connectionHint({ ...graph, connections: [] }, llm({}, { connection: null })),
    "No connection stored yet — create one with 'Flowline: Create Connection...'");
  assert.equal(connectionHint(graph, llm({}, { connection: "gone" })),
    "'gone' is not a stored connection: pick one of azure, local, or create it.");
  assert.equal(connectionHint(graph, llm({})), null);
  assert.equal(connectionHint(graph, llm({}, { connection: null })), null);  // validation's error says it
  assert.equal(connectionHint({ ...graph, connections: undefined }, llm({})), null);
});

test("the API picker offers chat and completion, and keeps another API the node names", () => {
  assert.deepEqual(apiChoices(llm({}, { api: "completion" })).map((o) => [o.value, o.selected]),
    [["chat", false], ["completion", true]]);
  assert.deepEqual(apiChoices(llm({}, { api: "embedding" })).map((o) => o.label),
    ["embedding (unknown API)", "chat", "completion"]);
});

test("the model is named by deployment_name or model, whichever the node has; deployment_name otherwise", () => {
  assert.equal(modelInput(llm({ model: "gpt-4o" })), "model");
  assert.equal(modelInput(llm({ deployment_name: "gpt-4o" })), "deployment_name");
  assert.equal(modelInput(llm({ deployment_name: "a", model: "b" })), "deployment_name");
  assert.equal(modelInput(llm({})), "deployment_name");
  assert.equal(modelMissing(llm({ deployment_name: "" })), true);  // what "Add node" writes when no node names a model
  assert.equal(modelMissing(llm({})), true);
  assert.equal(modelMissing(llm({ model: "gpt-4o" })), false);
});

test("parameters: those set are edited, unset ones its API takes may be added, the model has its own field", () => {
  const chat = modelParameters(graph, llm({ deployment_name: "gpt-4o", temperature: 0.7, question: "${inputs.q}" }));
  assert.deepEqual([chat.model.name, chat.model.parameter?.type], ["deployment_name", "string"]);
  assert.deepEqual(chat.present.map((p) => p.name), ["temperature"]);
  assert.deepEqual(chat.addable.map((p) => p.name), ["max_tokens", "stop", "response_format"]);
  const completion = modelParameters(graph, llm({ deployment_name: "d", model: "m" }, { api: "completion" }));
  assert.equal(completion.model.name, "deployment_name");
  assert.deepEqual(completion.present.map((p) => p.name), ["model"]);  // a second model input stays editable
  assert.ok(completion.addable.some((p) => p.name === "suffix"));
  assert.deepEqual(modelParameters({ ...graph, llm_parameters: undefined }, llm({ temperature: 1 })),
    { model: { name: "deployment_name", parameter: undefined }, present: [], addable: [] });
});

test("typed values: numbers stay numbers, JSON becomes values, a string parameter keeps its text", () => {
  const [, , temperature, maxTokens, stop, format] = table;
  assert.equal(parameterValue(temperature, "0.2"), 0.2);
  assert.equal(parameterValue(maxTokens, " 256 "), 256);
  assert.deepEqual(parameterValue(stop, '["\\n", "User:"]'), ["\n", "User:"]);
  assert.deepEqual(parameterValue(format, '{"type": "json_object"}'), { type: "json_object" });
  assert.equal(parameterValue(table[0], " 2024 "), "2024");
  assert.equal(parameterValue(temperature, "${inputs.t}"), "${inputs.t}");
  assert.equal(placeholderFor(temperature), "a number");
  assert.equal(placeholderFor(table[0]), "the model, e.g. gpt-4o-mini");
  assert.equal(placeholderFor(undefined), "value or ${...}");
});

test("a connection fault is told once: beside the picker, not again in the node's problem list", () => {
  const problems = [{ severity: "error" as const, message: "Unknown connection 'x'", code: "unknown-connection" },
    { severity: "warning" as const, message: "unused", code: "template-variable" }, { severity: "info" as const, message: "m" }];
  assert.deepEqual(listedProblems(problems, "'x' is not a stored connection").map((p) => p.message), ["unused", "m"]);
  assert.deepEqual(listedProblems(problems, null), problems);
  assert.deepEqual(listedProblems(undefined, null), []);
});
