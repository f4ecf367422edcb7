/**
 * What dragging a connection means in the visual editor (pure; unit-tested): from a flow input's or
 * a node's output handle to a node's input handle is a `connect` edit (a `setInput` of `${inputs.x}`
 * for a flow input), unless it would make a cycle, let a line node read an aggregation node, or
 * change nothing; those are refused on the spot with the reason, and nothing is sent.
 */

import { downstream } from "./flowGraph";
import { ACTIVATE } from "./graphModel";
import type { FlowEdit, FlowGraph } from "./protocol";

export type ConnectVerdict = { ok: true; edit: FlowEdit } | { ok: false; reason: string };

function refuse(reason: string): ConnectVerdict {
  return { ok: false, reason };
}

/** The verdict on connecting `source` (a node or `inputs.<name>`) to `target`'s handle `input`. */
export function connectVerdict(graph: FlowGraph, source: string, target: string, input: string | null | undefined):
  ConnectVerdict {
  if (target.startsWith("outputs.")) {
    return refuse(`A flow output's reference is set in the text ('${target}'), not by dragging.`);
  }
  if (target.startsWith("inputs.")) {
    return refuse("A flow input takes no connection: drag from it to a node's input.");
  }
  const to = graph.nodes.find((n) => n.name === target);
  if (!to || !input) {
    return refuse(`'${target}' is not a node of this flow.`);
  }
  if (input === ACTIVATE) {
    return refuse(`'${target}'s activate condition is set in the inspector or the text, not by dragging.`);
  }
  if (source.startsWith("inputs.")) {
    const name = source.slice("inputs.".length);
    if (!graph.inputs.some((i) => i.name === name)) {
      return refuse(`The flow has no input '${name}'.`);
    }
    const value = `\${inputs.${name}}`;
    if (to.inputs[input] === value) {
      return refuse(`'${target}.${input}' already reads ${value}.`);
    }
    return { ok: true, edit: { kind: "setInput", node: target, input, value } };
  }
  const from = graph.nodes.find((n) => n.name === source);
  if (!from) {
    return refuse(`'${source}' is not a node of this flow.`);
  }
  if (source === target) {
    return refuse(`'${target}' cannot read its own output.`);
  }
  if (downstream(graph, target).has(source)) {
    return refuse(`Connecting '${source}' to '${target}' would make a cycle: '${source}' already depends on `
      + `'${target}'.`);
  }
  if (from.aggregation && !to.aggregation) {
    return refuse(`'${target}' runs once per line and cannot read the aggregation node '${source}' (it runs once `
      + "over all lines).");
  }
  if (to.inputs[input] === `\${${source}.output}`) {
    return refuse(`'${target}.${input}' already reads \${${source}.output}.`);
  }
  return { ok: true, edit: { kind: "connect", from: source, to: target, input } };
}
