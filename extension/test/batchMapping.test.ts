import * as assert from "node:assert/strict";
import { test } from "node:test";
import { columnMappingPairs, DataColumnsError, dataColumns, defaultVariants, describeSource, literalProblem,
  type MappedInput, prefill, runCreateArgs, runName, SAMPLE_ROWS, unmapped, unmappedMessage, variantChoices }
  from "../src/batchMapping";
import type { GraphNode } from "../src/protocol";

const input = (name: string, type: string | null, value: unknown = null): MappedInput => ({ name, type, default: value });

test("JSON Lines: the keys of the first objects, blank lines skipped, later keys added in order", () => {
  const text = '\uFEFF{"url": "a", "answer": "App"}\n\n{"url": "b", "evidence": "x"}\r\n';
  assert.deepEqual(dataColumns("/d/data.jsonl", text), ["url", "answer", "evidence"]);
});

test("JSON Lines: only the first SAMPLE_ROWS rows give columns", () => {
  const rows = Array.from({ length: SAMPLE_ROWS }, () => '{"a": 1}');
  assert.deepEqual(dataColumns("d.JSONL", [...rows, '{"late": 1}'].join("\n")), ["a"]);
});

test("JSON Lines: a broken line or a non-object is refused with its line, as run create does", () => {
  assert.throws(() => dataColumns("d.jsonl", '{"a": 1}\n{oops'), /^Error: d\.jsonl:2: not valid JSON/);
  assert.throws(() => dataColumns("d.jsonl", "\n[1, 2]"), (e) => e instanceof DataColumnsError
    && e.message === "d.jsonl:2: each line must be a JSON object.");
  assert.throws(() => dataColumns("d.jsonl", "\n \n"), /holds no lines/);
});

test("JSON: a list of objects, or one object", () => {
  assert.deepEqual(dataColumns("d.json", '[{"q": 1}, {"q": 2, "h": []}]'), ["q", "h"]);
  assert.deepEqual(dataColumns("d.json", '{"q": 1}'), ["q"]);
  assert.throws(() => dataColumns("d.json", '[{"q": 1}, 3]'), /must hold a JSON object or a list of objects/);
  assert.throws(() => dataColumns("d.json", "[]"), /empty list/);
  assert.throws(() => dataColumns("d.json", "{"), /d\.json: not valid JSON/);
});

test("CSV and TSV: the header row, with quotes as Python's csv reads them", () => {
  assert.deepEqual(dataColumns("d.csv", '\uFEFFquestion,"chat, history","say ""hi""",x"y\r\n1,2,3,4\n'),
    ["question", "chat, history", 'say "hi"', 'x"y']);
  assert.deepEqual(dataColumns("d.tsv", "a\tb,c\ta\n1\t2\t3"), ["a", "b,c"]);
  assert.throws(() => dataColumns("d.csv", ""), /no header row/);
  assert.throws(() => dataColumns("d.txt", "a"), /not a data file; use \.jsonl, \.json, \.csv, \.tsv/);
});

const inputs = [input("url", "string", "pages/python.html"), input("question", "string", "Why?"),
  input("topic", "string"), input("history", "list", [])];

test("pre-filled by name: the column of the input's name, else the default, else unset", () => {
  const mapping = prefill(inputs, ["url", "topic", "answer"]);
  assert.deepEqual(mapping, { url: { kind: "column", column: "url" }, question: { kind: "default" },
    topic: { kind: "column", column: "topic" }, history: { kind: "default" } });
  assert.deepEqual(unmapped(inputs, mapping), []);
  const bare = prefill(inputs, ["answer"]);
  assert.deepEqual(bare.topic, { kind: "unset" });
  assert.deepEqual(unmapped(inputs, bare), ["topic"]);  // [] is a default; only null is none
});

test("an input with neither column nor default is reported and blocks the arguments", () => {
  const mapping = prefill(inputs, ["answer"]);
  assert.equal(unmappedMessage(["topic"], "data.jsonl"), "Input 'topic' of the flow has no column in data.jsonl "
    + "and no default: pick it in the list and choose a column or type a value.");
  assert.match(unmappedMessage(["a", "b"], "d.csv"), /^Inputs 'a', 'b' of the flow have no column in d\.csv/);
  assert.throws(() => columnMappingPairs(inputs, mapping), /choose a column or a value for topic/);
  assert.equal(describeSource(inputs[2], mapping.topic), "not set: choose a column or a value");
});

test("column, literal and default become pairs; defaults are left to the engine", () => {
  const mapping = prefill(inputs, ["url", "answer"]);
  mapping.question = { kind: "column", column: "answer" };
  mapping.topic = { kind: "literal", value: "a=b c" };
  assert.deepEqual(columnMappingPairs(inputs, mapping), ["url=${data.url}", "question=${data.answer}", "topic=a=b c"]);
  assert.deepEqual([describeSource(inputs[1], mapping.question), describeSource(inputs[2], mapping.topic),
    describeSource(inputs[3], mapping.history), describeSource(inputs[0], { kind: "default" })],
  ["${data.answer}", "Literal: a=b c", "Default ([])", "Default (pages/python.html)"]);
});

test("a literal is checked against the input's type, and a reference is no literal", () => {
  assert.equal(literalProblem(input("n", "int"), "3"), undefined);
  assert.equal(literalProblem(input("n", "int"), "3.5"), "Input 'n' must be a whole number, not '3.5'.");
  assert.equal(literalProblem(input("h", "list"), "[1]"), undefined);
  assert.match(literalProblem(input("h", "list"), "{}") ?? "", /must be a JSON list/);
  assert.match(literalProblem(input("s", "string"), "${data.s}") ?? "", /reference, not a literal/);
  assert.equal(literalProblem(input("s", "string"), ""), undefined);
});

const node = (name: string, ids: string[], fallback: string | null): GraphNode => ({ name, type: null,
  aggregation: false, use_variants: ids.length > 0, variant_ids: ids, default_variant_id: fallback, source: null,
  activate: null, inputs: {}, parameters: [], span: { start_line: 0, start_col: 0, end_line: 0, end_col: 0 },
  name_span: { start_line: 0, start_col: 0, end_line: 0, end_col: 0 } });

test("variants: each use_variants node's ids as ${node.variant_id}, defaults named", () => {
  const choices = variantChoices([node("fetch", [], null), node("summarize", ["variant_0", "variant_1"], "variant_0")]);
  assert.deepEqual(choices.map((c) => [c.variant, c.isDefault]),
    [["${summarize.variant_0}", true], ["${summarize.variant_1}", false]]);
  assert.equal(defaultVariants(choices), "summarize: variant_0");
  const older = { ...node("summarize", [], null), use_variants: true, variant_ids: undefined };
  assert.deepEqual(variantChoices([older]), []);  // a server without variant ids: no choice offered
});

test("run create's arguments: name, workers, variant, and the mapping last", () => {
  const variant = variantChoices([node("compose", ["plain", "formal"], "plain")])[1];
  const name = runName("dataset-defaults", variant, new Date(2025, 0, 2, 3, 4, 5, 67));
  assert.equal(name, "dataset-defaults_formal_20250102_030405_067000");
  assert.deepEqual(runCreateArgs({ flow: "/f", data: "/f/d.jsonl", name, workers: 4, variant,
    pairs: ["name=${data.name}", "greeting=Hi"] }),
  ["run", "create", "--flow", "/f", "--data", "/f/d.jsonl", "--name", name, "--workers", "4",
    "--variant", "${compose.formal}", "--column-mapping", "name=${data.name}", "greeting=Hi"]);
  assert.deepEqual(runCreateArgs({ flow: "/f", data: "/f/d.csv", name: "r", workers: 1, pairs: [] }),
    ["run", "create", "--flow", "/f", "--data", "/f/d.csv", "--name", "r", "--workers", "1"]);
  assert.equal(runName("hello", undefined, new Date(2025, 10, 12, 13, 14, 15, 0)), "hello_20251112_131415_000000");
});
