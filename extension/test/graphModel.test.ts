import * as assert from "node:assert/strict";
import { test } from "node:test";
import { ACTIVATE, HEADER_CENTER, iconFor, nextVariantId, nodeHeight, OUT, REFERENCE, sourceOf, toGraphView }
  from "../src/graphModel";
import { node, webClassification } from "./graphFixtures";

test("every flow input, node and output becomes a view node of its kind; every reference an edge", () => {
  const view = toGraphView({ graph: webClassification(), runs: {}, problems: {} });
  assert.deepEqual(view.nodes.map((n) => [n.id, n.type]), [
    ["inputs.url", "flowInput"], ["fetch_text_content_from_url", "flowNode"], ["summarize_text_content", "flowNode"],
    ["prepare_examples", "flowNode"], ["classify_with_llm", "flowNode"], ["convert_to_dict", "flowNode"],
    ["score", "flowNode"], ["outputs.category", "flowOutput"], ["outputs.evidence", "flowOutput"]]);
  assert.equal(view.edges.length, 10);
  const first = view.edges[0];
  assert.deepEqual(first, { id: "inputs.url->fetch_text_content_from_url:url", source: "inputs.url",
    target: "fetch_text_content_from_url", sourceHandle: OUT, targetHandle: "url", type: "routed",
    data: { activate: false, port: "url", badge: null } });
  assert.equal(view.edges.find((e) => e.target === "outputs.category")?.targetHandle, REFERENCE);
});

test("a node has a handle per tool parameter and per other input, in rows below its header", () => {
  const view = toGraphView({ graph: webClassification(), runs: {}, problems: {} });
  const convert = view.nodes.find((n) => n.id === "convert_to_dict");
  assert.deepEqual(convert?.data.handles.map((h) => [h.id, h.set, h.required]),
    [["input_str", true, true], ["strict", false, false], [ACTIVATE, true, false]]);
  const [inputStr, strict, activate] = convert?.data.handles ?? [];
  assert.equal(strict.y - inputStr.y, 18);
  assert.equal(activate.y, HEADER_CENTER);
  assert.ok(inputStr.y > HEADER_CENTER + 18);
  assert.equal(convert?.height, nodeHeight(webClassification().nodes[4]));
  assert.ok((convert?.height ?? 0) > strict.y);
});

test("an activate condition is a dashed edge with a badge; an aggregation node has its badge", () => {
  const view = toGraphView({ graph: webClassification(), runs: {}, problems: {} });
  const activate = view.edges.find((e) => e.targetHandle === ACTIVATE);
  assert.deepEqual(activate?.data, { activate: true, port: "activate", badge: "is true" });
  const convert = view.nodes.find((n) => n.id === "convert_to_dict");
  assert.equal(convert?.data.activate, "if ${prepare_examples.output} is true");
  assert.equal(view.nodes.find((n) => n.id === "score")?.data.aggregation, true);
  assert.equal(convert?.data.aggregation, false);
});

test("a use_variants node lists its variants with the default; the viewed one shows its own type and file", () => {
  const graph = webClassification();
  const shown = toGraphView({ graph, runs: {}, problems: {} }).nodes.find((n) => n.id === "summarize_text_content");
  assert.deepEqual(shown?.data.variants, { ids: ["variant_0", "variant_1"], defaultId: "variant_0", shown: "variant_0",
    type: "llm", source: "summarize_text_content.jinja2" });
  const other = toGraphView({ graph, runs: {}, problems: {} }, { summarize_text_content: "variant_1" }).nodes
    .find((n) => n.id === "summarize_text_content");
  assert.equal(other?.data.variants?.shown, "variant_1");
  assert.equal(other?.data.variants?.source, "summarize_text_content__variant_1.jinja2");
  assert.equal(other?.data.typeLabel, "llm");  // not "?": the node's type is its default variant's
  assert.equal(shown?.data.canAddVariant, true);
  // the variant rows make the node taller than the same node without variants
  assert.ok(nodeHeight(graph.nodes[1]) > nodeHeight({ ...graph.nodes[1], use_variants: false }));
});

test("a node opens its own source at the line the graph gives; a variant node the source of the variant shown", () => {
  const graph = webClassification();
  const [fetch, summarize] = graph.nodes;
  assert.deepEqual(sourceOf({ ...fetch, source_line: 42 }), { file: "fetch_text_content_from_url.py", line: 42 });
  assert.deepEqual(sourceOf(fetch), { file: "fetch_text_content_from_url.py" });  // a server older than source_line
  assert.equal(sourceOf(node("search", { source: null, tool: "acme_tools.search" })), null);
  const lines = { ...summarize, variants: summarize.variants?.map((v, line) => ({ ...v, source_line: line })) };
  assert.deepEqual(sourceOf(lines), { file: "summarize_text_content.jinja2", line: 0 });
  assert.deepEqual(sourceOf(lines, "variant_1"), { file: "summarize_text_content__variant_1.jinja2", line: 1 });
  assert.deepEqual(sourceOf(lines, "gone"), { file: "summarize_text_content.jinja2", line: 0 });
  // a server that lists only the variant ids: the default's source is the node's, another's is not known
  const idsOnly = { ...summarize, variants: undefined };
  assert.deepEqual(sourceOf(idsOnly), { file: "summarize_text_content.jinja2" });
  assert.equal(sourceOf(idsOnly, "variant_1"), null);
});

test("run status, duration and tokens; problems as the worst severity and every message", () => {
  const view = toGraphView({ graph: webClassification(), runs: {
    classify_with_llm: { status: "Completed", durationMs: 1234, tokens: 42 },
    convert_to_dict: { status: "Failed", durationMs: 3, error: "ValueError: bad" } },
  problems: { score: [{ severity: "warning", message: "a" }, { severity: "error", message: "b" }] } });
  const byId = new Map(view.nodes.map((n) => [n.id, n.data]));
  assert.deepEqual(byId.get("classify_with_llm")?.run, { status: "Completed", text: "Completed · 1.2 s · 42 tokens",
    error: undefined });
  assert.deepEqual(byId.get("convert_to_dict")?.run?.text, "Failed · 3.0 ms");
  assert.deepEqual(byId.get("score")?.problem, { severity: "error", text: "a\nb" });
  assert.equal(byId.get("fetch_text_content_from_url")?.run, null);
});

test("type icons: python, llm, prompt, custom_llm, package tools; unknown types", () => {
  assert.deepEqual([iconFor({ type: "python" }), iconFor({ type: "llm" }), iconFor({ type: "prompt" }),
    iconFor({ type: "custom_llm" }), iconFor({ type: "python", tool: "pkg.tools.search" }), iconFor({ type: null })],
  ["Py", "AI", "Pr", "cAI", "Pk", "?"]);
});

test("edges to missing nodes or handles are left out; a duplicate reference is drawn once", () => {
  const graph = { ...webClassification(), edges: [
    { source: "gone", target: "score", port: "results" },
    { source: "convert_to_dict", target: "score", port: "results" },
    { source: "convert_to_dict", target: "score", port: "results" }] };
  assert.deepEqual(toGraphView({ graph, runs: {}, problems: {} }).edges.map((e) => e.id),
    ["convert_to_dict->score:results"]);
});

test("the next variant id is the first free variant_N", () => {
  assert.equal(nextVariantId(node("a", { type: "llm" })), "variant_1");
  assert.equal(nextVariantId(node("a", { type: "llm", use_variants: true, variant_ids: ["variant_0", "variant_1"] })),
    "variant_2");
  assert.equal(nextVariantId(node("a", { type: "llm", use_variants: true, variant_ids: ["variant_0", "variant_2"] })),
    "variant_1");
});

test("an input named activate or reference is an input like any other, beside the node's activate condition", () => {
  const graph = webClassification();
  const convert = graph.nodes.find((n) => n.name === "convert_to_dict");
  assert.ok(convert);
  convert.inputs = { ...convert.inputs, activate: "${inputs.url}", reference: 5 };
  graph.edges.push({ source: "inputs.url", target: "convert_to_dict", port: "activate", activate: false });
  const view = toGraphView({ graph, runs: {}, problems: {} });
  const handles = view.nodes.find((n) => n.id === "convert_to_dict")?.data.handles.map((h) => [h.id, h.label]);
  assert.deepEqual(handles, [["input_str", "input_str"], ["strict", "strict"], ["activate", "activate"],
    ["reference", "reference"], [ACTIVATE, "activate"]]);
  const into = view.edges.filter((e) => e.target === "convert_to_dict").map((e) => [e.source, e.targetHandle, e.data?.activate]);
  assert.deepEqual(into, [["classify_with_llm", "input_str", false], ["prepare_examples", ACTIVATE, true],
    ["inputs.url", "activate", false]]);
});
