import * as assert from "node:assert/strict";
import { test } from "node:test";
import { convert, display, formInputs, InputError } from "../src/inputs";
import type { InputField } from "../src/messages";

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
