import * as assert from "node:assert/strict";
import { test } from "node:test";
import { convert, display, formInputs, InputError, nodeFormInputs } from "../src/inputs";
import type { InputField } from "../src/messages";
import type { NodeNeed } from "../src/protocol";

const field = (name: string, type: string | null, value: unknown = null): InputField =>
  ({ name, type, default: value, description: null });

test("form text becomes the flow's declared types", () => {
  const fields = [field("n", "int"), field("x", "double"), field("ok", "bool"), field("tags", "list"),
    field("meta", "object"), field("name", "string")];
  assert.deepEqual(formInputs(fields, { n: "3", x: "0.5", ok: "True", tags: "[1, 2]", meta: '{"a": 1}', name: " hi " }),
    { n: 3, x: 0.5, ok: true, tags: [1, 2], meta: { a: 1 }, name: " hi " });
});

test("missing values fall back to defaults, or are left out", () => {
  assert.deepEqual(formInputs([field("name", "string", "World"), field("extra", "string")], {}), { name: "World" });
});

test("wrong text says which input and why", () => {
  assert.throws(() => convert(field("n", "int"), "3.5"), InputError);
  assert.throws(() => convert(field("ok", "bool"), "yes"), /must be true or false/);
  assert.throws(() => convert(field("tags", "list"), "{}"), /must be a JSON list/);
  assert.throws(() => convert(field("meta", "object"), "{oops"), /is not valid JSON/);
});

test("values show as text", () => {
  assert.equal(display(["a"]), '["a"]');
  assert.equal(display("x"), "x");
  assert.equal(display(null), "");
});

test("a node form's values: outputs read as JSON when spelled so, flow inputs by their type", () => {
  const needs: NodeNeed[] = [
    { input: "text", reference: "${fetch.output}", key: "fetch.output", kind: "node", type: null },
    { input: "examples", reference: "${prepare.output}", key: "prepare.output", kind: "node", type: null },
    { input: "count", reference: "${inputs.count}", key: "inputs.count", kind: "input", type: "int" },
    { input: "other", reference: "${other.output}", key: "other.output", kind: "node", type: null },
  ];
  assert.deepEqual(nodeFormInputs(needs, { "fetch.output": "Python is a language", "prepare.output": '[{"a": 1}]',
    "inputs.count": "3" }), { "fetch.output": "Python is a language", "prepare.output": [{ a: 1 }], "inputs.count": 3 });
  assert.throws(() => nodeFormInputs(needs, { "inputs.count": "many" }), /Input 'count' must be a whole number/);
});
