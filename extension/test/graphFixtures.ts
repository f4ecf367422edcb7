/** Flow graphs the visual editor's tests share. */

import type { FlowGraph, GraphNode } from "../src/protocol";

export const span = { start_line: 0, start_col: 0, end_line: 0, end_col: 0 };

export function node(name: string, extra: Partial<GraphNode> = {}): GraphNode {
  return { name, type: "python", aggregation: false, use_variants: false, source: `${name}.py`, activate: null,
    inputs: {}, parameters: [], span, name_span: span, ...extra };
}

/** Prompt flow's web-classification shape: fetch → summarize (variants) → classify → convert; a score aggregation. */
export function webClassification(): FlowGraph {
  return {
    version: 2,
    inputs: [{ name: "url", type: "string", default: null, description: null, is_chat_history: false, span }],
    outputs: [{ name: "category", reference: "${convert.output.category}", span },
      { name: "evidence", reference: "${convert.output.evidence}", span }],
    nodes: [
      node("fetch_text_content_from_url", { inputs: { url: "${inputs.url}" },
        parameters: [{ name: "url", annotation: "str", default: null, required: true }] }),
      node("summarize_text_content", { type: "llm", source: "summarize_text_content.jinja2", use_variants: true,
        variant_ids: ["variant_0", "variant_1"], default_variant_id: "variant_0",
        inputs: { text: "${fetch_text_content_from_url.output}", deployment_name: "gpt-35" },
        parameters: [{ name: "text", annotation: null, default: null, required: true }],
        variants: [
          { id: "variant_0", type: "llm", source: "summarize_text_content.jinja2", inputs: {}, span },
          { id: "variant_1", type: "llm", source: "summarize_text_content__variant_1.jinja2", inputs: {}, span }] }),
      node("prepare_examples", {}),
      node("classify_with_llm", { type: "llm", source: "classify_with_llm.jinja2",
        inputs: { url: "${inputs.url}", text_content: "${summarize_text_content.output}", examples: "${prepare_examples.output}" },
        parameters: [{ name: "url", annotation: null, default: null, required: true },
          { name: "text_content", annotation: null, default: null, required: true },
          { name: "examples", annotation: null, default: null, required: true }] }),
      node("convert_to_dict", { inputs: { input_str: "${classify_with_llm.output}" },
        activate: { when: "${prepare_examples.output}", is: true },
        parameters: [{ name: "input_str", annotation: "str", default: null, required: true },
          { name: "strict", annotation: "bool", default: "False", required: false }] }),
      node("score", { aggregation: true, inputs: { results: "${convert_to_dict.output}" } }),
    ],
    edges: [
      { source: "inputs.url", target: "fetch_text_content_from_url", port: "url" },
      { source: "fetch_text_content_from_url", target: "summarize_text_content", port: "text" },
      { source: "inputs.url", target: "classify_with_llm", port: "url" },
      { source: "summarize_text_content", target: "classify_with_llm", port: "text_content" },
      { source: "prepare_examples", target: "classify_with_llm", port: "examples" },
      { source: "classify_with_llm", target: "convert_to_dict", port: "input_str" },
      { source: "prepare_examples", target: "convert_to_dict", port: "activate", activate: true },
      { source: "convert_to_dict", target: "score", port: "results" },
      { source: "convert_to_dict", target: "outputs.category", port: "reference" },
      { source: "convert_to_dict", target: "outputs.evidence", port: "reference" },
    ],
  };
}

/**
 * A generated flow of `count` nodes named `<prefix>_<i>`, in layers of 15: each reads one or two nodes of the layer
 * before (the first layer the flow input `question`); every third is an LLM node; the last three are the outputs.
 */
export function generatedFlow(count: number, prefix = "step"): FlowGraph {
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const nodes: GraphNode[] = [];
  const edges: FlowGraph["edges"] = [];
  const width = 15;
  for (let i = 0; i < count; i += 1) {
    const name = `${prefix}_${i}`;
    const inputs: Record<string, unknown> = {};
    const layer = Math.floor(i / width);
    const sources = layer === 0 ? ["inputs.question"] : [...new Set([0, 1].slice(0, 1 + Math.floor(random() * 2))
      .map(() => `${prefix}_${(layer - 1) * width + Math.floor(random() * width)}`))];
    sources.forEach((source, index) => {
      inputs[`in_${index}`] = source.startsWith("inputs.") ? `\${${source}}` : `\${${source}.output}`;
      edges.push({ source, target: name, port: `in_${index}` });
    });
    nodes.push(node(name, { inputs, type: i % 3 === 0 ? "llm" : "python" }));
  }
  const outputs = [0, 1, 2].map((k) => ({ name: `out_${k}`, reference: `\${${prefix}_${count - 1 - k}.output}`, span }));
  outputs.forEach((o, k) => edges.push({ source: `${prefix}_${count - 1 - k}`, target: `outputs.${o.name}`,
    port: "reference" }));
  return { version: 9, inputs: [{ name: "question", type: "string", default: null, description: null,
    is_chat_history: false, span }], outputs, nodes, edges };
}
