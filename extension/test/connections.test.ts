import * as assert from "node:assert/strict";
import { test } from "node:test";
import { connectionName, connectionType, defaultName, diagnosticCode, initNotice, missingConnections,
  requestedConnection, typeItems } from "../src/connections";
import type { GraphNode, Span } from "../src/protocol";

function lines(start: number, end: number): Span {
  return { start_line: start, start_col: 0, end_line: end, end_col: 0 };
}

function node(name: string, start: number, end: number, extra: Partial<GraphNode> = {}): GraphNode {
  return { name, type: "llm", aggregation: false, use_variants: false, source: `${name}.jinja2`, activate: null,
    inputs: {}, parameters: [], span: lines(start, end), name_span: lines(start, start), ...extra };
}

const nodes = [
  node("ask", 10, 20, { connection: "mine", provider: "AzureOpenAI" }),
  node("chat", 20, 30, { connection: "local" }),
  node("tool", 30, 40, { type: "python", inputs: { conn: "vault" },
    parameters: [{ name: "conn", annotation: "AzureOpenAIConnection", default: null, required: true }] }),
];

test("the missing connections come once each, in the order the flow names them, with their node's type", () => {
  const uses = [{ text: "local", line: 27 }, { text: "mine", line: 15 }, { text: "'local'", line: 50 },
    { text: "vault", line: 33 }, { text: "  ", line: 12 }];
  assert.deepEqual(missingConnections(uses, nodes), [
    { name: "mine", type: "azure_open_ai" },
    { name: "local", type: "open_ai" },
    { name: "vault", type: "azure_open_ai" },
  ]);
  assert.deepEqual(missingConnections([], nodes), []);
});

test("a use outside every node (a variant's) or with no graph at all is an OpenAI connection", () => {
  assert.deepEqual(missingConnections([{ text: "other", line: 60 }], nodes), [{ name: "other", type: "open_ai" }]);
  assert.deepEqual(missingConnections([{ text: "mine", line: 15 }], []), [{ name: "mine", type: "open_ai" }]);
});

test("a name the quick fix passes is the one proposed, with its node's type when the flow names it", () => {
  const missing = missingConnections([{ text: "mine", line: 15 }, { text: "local", line: 27 }], nodes);
  assert.deepEqual(requestedConnection("mine", missing), { name: "mine", type: "azure_open_ai" });
  assert.deepEqual(requestedConnection("'team-gpt'", missing), { name: "team-gpt", type: "open_ai" });
  // The palette passes nothing (a key binding may pass an object): propose from the flow instead.
  assert.equal(requestedConnection(undefined, missing), undefined);
  assert.equal(requestedConnection({ uri: "x" }, missing), undefined);
  assert.equal(requestedConnection("  ", missing), undefined);
});

test("the type: Azure by provider or by the parameter given the name; OpenAI otherwise", () => {
  assert.equal(connectionType(nodes[0], "mine"), "azure_open_ai");
  assert.equal(connectionType(node("x", 0, 1, { provider: "OpenAI" }), "mine"), "open_ai");
  assert.equal(connectionType(nodes[2], "vault"), "azure_open_ai");
  assert.equal(connectionType(nodes[2], "another"), "open_ai");  // not the name that parameter gets
  assert.equal(connectionType(undefined, "mine"), "open_ai");
});

test("a YAML name loses its quotes; a diagnostic code is read in each of VS Code's shapes", () => {
  assert.equal(connectionName(' "my conn" '), "my conn");
  assert.equal(connectionName("'a'"), "a");
  assert.equal(connectionName("plain"), "plain");
  assert.equal(diagnosticCode("unknown-connection"), "unknown-connection");
  assert.equal(diagnosticCode({ value: "unknown-connection", target: {} }), "unknown-connection");
  assert.equal(diagnosticCode(7), "7");
  assert.equal(diagnosticCode(undefined), undefined);
});

test("the wanted type is offered first; a type's default name stands when the flow misses none", () => {
  assert.deepEqual(typeItems("azure_open_ai").map((t) => t.label), ["azure_open_ai", "open_ai"]);
  assert.deepEqual(typeItems("open_ai").map((t) => t.label), ["open_ai", "azure_open_ai"]);
  assert.equal(defaultName("open_ai"), "openai");
  assert.equal(defaultName("azure_open_ai"), "azure");
});

test("a new flow whose connection is not stored says so and how to get it; otherwise nothing", () => {
  const made = { flow: "/w/chat", files: ["/w/chat/flow.dag.yaml"] };
  assert.equal(initNotice({ ...made, connection: "local", connection_stored: false }),
    "The new flow's LLM node uses connection 'local', which is not stored yet: create it (or serve the local "
    + "model as 'local': make local-llm), or write a stored connection's name in its 'connection:'.");
  assert.match(initNotice({ ...made, connection: "mine", connection_stored: false }) ?? "",
    /connection 'mine', which is not stored yet: create it, or/);
  assert.equal(initNotice({ ...made, connection: "local", connection_stored: true }), undefined);
  assert.equal(initNotice({ ...made, connection: null, connection_stored: false }), undefined);
});
