/**
 * What the visual editor's inspector edits on an `llm` node, as data: the choices of its connection
 * and API pickers, the input that names the model, the model parameters it sets and may add, and how
 * text typed for one becomes a value. Pure (unit-tested in plain Node; the webview bundles it).
 */

import { literal } from "./flowGraph";
import type { NodeProblem } from "./editorMessages";
import type { FlowGraph, GraphNode, LlmParameter } from "./protocol";

/** The APIs an llm node calls. */
export const APIS: readonly string[] = ["chat", "completion"];

/** What the inspector says when no connection is stored (the command as the palette titles it). */
export const NO_CONNECTION = "No connection stored yet — create one with 'Flowline: Create Connection...'";

const MODEL_INPUTS = ["deployment_name", "model"];

/** One option of a picker; `value` "" is the placeholder shown while the node sets nothing. */
export interface Choice {
  value: string;
  label: string;
  selected: boolean;
  /** The node's own value, which is not among the known ones (a connection that is not stored). */
  unknown: boolean;
}

/**
 * The options of a picker over `known` values with the node's `current` one selected. A current value
 * that is not known comes first as `<value> (<note>)`; no current value gives a first placeholder
 * option `(none)`, so that picking any real value is a change.
 */
export function choices(known: readonly string[], current: string | null, note: string): Choice[] {
  const options = known.map((value) => ({ value, label: value, selected: value === current, unknown: false }));
  if (current === null) {
    return [{ value: "", label: "(none)", selected: true, unknown: false }, ...options];
  }
  return known.includes(current) ? options
    : [{ value: current, label: `${current} (${note})`, selected: true, unknown: true }, ...options];
}

/** The connection an llm node names, as text; null when it names none. */
export function nodeConnection(node: GraphNode): string | null {
  const value = node.connection;
  return value === undefined || value === null ? null : typeof value === "string" ? value : JSON.stringify(value);
}

/** The connection picker of an llm node: the stored connections, and the node's own when it is not stored. */
export function connectionChoices(graph: FlowGraph, node: GraphNode): Choice[] {
  return choices(graph.connections ?? [], nodeConnection(node), "not stored");
}

/** The API picker of an llm node: `chat` and `completion`, and the node's own when it is another. */
export function apiChoices(node: GraphNode): Choice[] {
  return choices(APIS, node.api ?? null, "unknown API");
}

/**
 * What the inspector says under the connection picker: how to get a connection when none is stored,
 * or that the node's own is not stored; null when there is nothing to say (or the server does not
 * tell which connections are stored).
 */
export function connectionHint(graph: FlowGraph, node: GraphNode): string | null {
  const stored = graph.connections;
  const current = nodeConnection(node);
  if (stored === undefined) {
    return null;
  }
  if (!stored.length) {
    return NO_CONNECTION;
  }
  return current !== null && !stored.includes(current)
    ? `'${current}' is not a stored connection: pick one of ${stored.join(", ")}, or create it.` : null;
}

function has(node: GraphNode, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(node.inputs, name);
}

/**
 * The input that names the model: `deployment_name` or `model`, whichever the node has;
 * `deployment_name` when it has both (the engine reads it first) or neither (as Prompt flow's
 * templates write it, and the engine reads it on every connection type; the graph does not say
 * which type a connection is).
 */
export function modelInput(node: GraphNode): "deployment_name" | "model" {
  return !has(node, "deployment_name") && has(node, "model") ? "model" : "deployment_name";
}

/** True when the node names no model: its model input is absent or empty (a run would fail). */
export function modelMissing(node: GraphNode): boolean {
  const value = node.inputs[modelInput(node)];
  return value === undefined || value === null || value === "";
}

/** An llm node's model settings as the inspector lays them out. */
export interface ModelParameters {
  /** The model input (see `modelInput`) with its row of the table, when the table has it. */
  model: { name: string; parameter: LlmParameter | undefined };
  /** The parameters the node sets besides its model input, in the table's order. */
  present: LlmParameter[];
  /** The parameters it may add: unset, taken by its API, and not a second model input. */
  addable: LlmParameter[];
}

/** An llm node's model settings, from the graph's parameter table (empty from an older server). */
export function modelParameters(graph: FlowGraph, node: GraphNode): ModelParameters {
  const table = graph.llm_parameters ?? [];
  const model = modelInput(node);
  const rest = table.filter((p) => p.name !== model);
  return {
    model: { name: model, parameter: table.find((p) => p.name === model) },
    present: rest.filter((p) => has(node, p.name)),
    addable: rest.filter((p) => !has(node, p.name) && !MODEL_INPUTS.includes(p.name)
      && (node.api === "completion" || !p.completion_only)),
  };
}

const PLACEHOLDERS: Record<string, string> = {
  string: "text", int: "a whole number", double: "a number", bool: "true or false",
  list: "a JSON list: [\"…\"]", object: "a JSON object: {\"type\": …}",
};

/** The placeholder of a parameter's field: what kind of value it takes. */
export function placeholderFor(parameter: LlmParameter | undefined): string {
  if (parameter && MODEL_INPUTS.includes(parameter.name)) {
    return "the model, e.g. gpt-4o-mini";
  }
  return PLACEHOLDERS[parameter?.type ?? ""] ?? "value or ${...}";
}

/**
 * The value of text typed for a model setting: a `string` parameter's text as typed, trimmed (a
 * deployment called `2024` stays a name); any other as `literal` reads it (numbers stay numbers, JSON
 * lists and objects become values, anything else a string).
 */
export function parameterValue(parameter: LlmParameter | undefined, text: string): unknown {
  return parameter?.type === "string" ? text.trim() : literal(text);
}

/** The problems of a missing or unknown connection, which the connection hint tells in its own words. */
const CONNECTION_PROBLEMS = new Set(["unknown-connection", "llm-connection-missing"]);

/**
 * The node's problems the inspector lists: with the connection `hint` shown beside the picker, the
 * connection's own diagnostic is left out, so one fault is told once.
 */
export function listedProblems(problems: readonly NodeProblem[] | undefined, hint: string | null): NodeProblem[] {
  return (problems ?? []).filter((p) => hint === null || p.code === undefined || !CONNECTION_PROBLEMS.has(p.code));
}
