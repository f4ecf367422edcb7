/**
 * The visual editor's graph as React Flow draws it (pure; unit-tested in plain Node, bundled by the
 * webview): one view node per flow input, node and output, with the handles a connection may use
 * (one per node input or free tool parameter, `activate` for an activate condition), the badges and
 * run status a node shows, and one view edge per reference. Sizes are fixed here so that the layout
 * (graphLayout.ts) and the drawing agree without measuring the DOM. The shapes match React Flow's
 * `Node` and `Edge` without importing it.
 */

import type { NodeProblem, NodeRun } from "./editorMessages";
import { display } from "./inputs";
import type { FlowGraph, GraphNode } from "./protocol";
import { formatDuration } from "./runModel";

export const NODE_WIDTH = 240;
export const PORT_WIDTH = 170;
export const PORT_HEIGHT = 40;
/** A node's rows: the header (icon, name, status), the tool file and badges, the run line, each input. */
export const HEADER_HEIGHT = 30;
export const ROW_HEIGHT = 18;
const PAD = 6;
/** The middle of a node's header: its output handle and its activate handle. */
export const HEADER_CENTER = PAD + HEADER_HEIGHT / 2;
/** The variant picker's two rows of a `use_variants` node. */
export const VARIANT_ROWS = 2;

export type ViewKind = "flowInput" | "flowNode" | "flowOutput";

/** Where a connection may end on a node: a node input, a free tool parameter, or the activate condition. */
export interface HandleView {
  id: string;
  label: string;
  /** Its centre, from the node's top. */
  y: number;
  /** The input is set (a value or a reference), not only offered by the tool. */
  set: boolean;
  required: boolean;
}

export interface VariantView {
  ids: string[];
  defaultId: string | null;
  /** The variant the node shows (the default unless the user picked another). */
  shown: string;
  type: string | null;
  source: string | null;
}

export interface RunView {
  status: string;
  /** "Completed · 1.2 s · 42 tokens". */
  text: string;
  error?: string;
}

export interface ViewData {
  kind: ViewKind;
  label: string;
  /** A short glyph of the node's type (`Py`, `AI`, `Pr`, `Pk`, `cAI`), or of the port. */
  icon: string;
  /** python, llm, ... (`?` when the YAML names none); a flow input's declared type. */
  typeLabel: string;
  /** The tool file (`source.path`) or a package tool's id. */
  file: string | null;
  /** The activate condition, as a badge's text (`if ${x.output} is true`). */
  activate: string | null;
  aggregation: boolean;
  variants: VariantView | null;
  /** An llm or prompt node may get another variant. */
  canAddVariant: boolean;
  run: RunView | null;
  /** The worst severity among its problems, and every message (the hover text). */
  problem: { severity: NodeProblem["severity"]; text: string } | null;
  handles: HandleView[];
  [key: string]: unknown;
}

export interface ViewNode {
  id: string;
  type: ViewKind;
  position: { x: number; y: number };
  width: number;
  height: number;
  data: ViewData;
}

export interface ViewEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: string;
  targetHandle: string;
  type: "routed";
  data: { activate: boolean; badge: string | null; port: string };
}

export interface GraphView {
  nodes: ViewNode[];
  edges: ViewEdge[];
}

/** The one source handle of every node and flow input. */
export const OUT = "out";
/** The target handle of a flow output. */
export const REFERENCE = "reference";
/** The target handle of a node's activate condition: not a Python name, so no input of a tool can take it. */
export const ACTIVATE = "@activate";

const ICONS: Record<string, string> = { python: "Py", llm: "AI", prompt: "Pr", custom_llm: "cAI" };

export function iconFor(node: Pick<GraphNode, "type" | "tool">): string {
  if (node.tool) {
    return "Pk";
  }
  return ICONS[node.type ?? ""] ?? "?";
}

/** The inputs a node offers handles for: its tool's parameters in order, then inputs the tool does not name. */
export function handleNames(node: GraphNode): string[] {
  const names = node.parameters.map((p) => p.name);
  for (const name of Object.keys(node.inputs)) {
    if (!names.includes(name)) {
      names.push(name);
    }
  }
  return names;
}

/** The top of a node's first input row. */
export function inputsTop(node: GraphNode): number {
  const variants = node.use_variants && (node.variants?.length ?? node.variant_ids?.length ?? 0) > 0;
  return PAD + HEADER_HEIGHT + ROW_HEIGHT * (2 + (variants ? VARIANT_ROWS : 0));
}

export function nodeHeight(node: GraphNode): number {
  return inputsTop(node) + ROW_HEIGHT * handleNames(node).length + PAD;
}

/** The variant a `use_variants` node shows: the one the user looks at, else the default (undefined: not one). */
function shownVariant(node: GraphNode, viewed: string | undefined):
  { ids: string[]; defaultId: string; shown: string } | undefined {
  const ids = node.variants?.map((v) => v.id) ?? node.variant_ids ?? [];
  if (!node.use_variants || ids.length === 0) {
    return undefined;
  }
  const defaultId = node.default_variant_id ?? ids[0];
  return { ids, defaultId, shown: viewed && ids.includes(viewed) ? viewed : defaultId };
}

function variantView(node: GraphNode, viewed: string | undefined): VariantView | null {
  const chosen = shownVariant(node, viewed);
  if (!chosen) {
    return null;
  }
  const { ids, defaultId, shown } = chosen;
  const variant = node.variants?.find((v) => v.id === shown);
  return { ids, defaultId, shown, type: variant?.type ?? (shown === defaultId ? node.type : null),
    source: variant ? variant.tool ?? variant.source : shown === defaultId ? node.tool ?? node.source : null };
}

/**
 * What double-clicking a node opens: the source file of the definition it shows (the variant looked at, else the
 * node's own), at the line the graph gives (a tool file's `@tool` function; absent from older servers); null for a
 * node without a source file (a package tool).
 */
export function sourceOf(node: GraphNode, viewed?: string): { file: string; line?: number } | null {
  const chosen = shownVariant(node, viewed);
  const shown: Pick<GraphNode, "source" | "source_line"> | undefined = chosen
    ? node.variants?.find((v) => v.id === chosen.shown) ?? (chosen.shown === chosen.defaultId ? node : undefined)
    : node;
  if (!shown?.source) {
    return null;
  }
  const line = shown.source_line;
  return typeof line === "number" ? { file: shown.source, line } : { file: shown.source };
}

const SEVERITY_ORDER: NodeProblem["severity"][] = ["error", "warning", "info"];

function problemView(problems: NodeProblem[] | undefined): ViewData["problem"] {
  if (!problems?.length) {
    return null;
  }
  const severity = SEVERITY_ORDER.find((s) => problems.some((p) => p.severity === s)) ?? "info";
  return { severity, text: problems.map((p) => p.message).join("\n") };
}

/** "Completed · 1.2 s · 42 tokens". */
export function runText(run: NodeRun): string {
  return [run.status, formatDuration(run.durationMs) || null, run.tokens ? `${run.tokens} tokens` : null]
    .filter(Boolean).join(" · ");
}

function runView(run: NodeRun | undefined): RunView | null {
  return run ? { status: run.status, text: runText(run), error: run.error } : null;
}

function base(kind: ViewKind): Pick<ViewData, "kind" | "file" | "activate" | "aggregation" | "variants"
  | "canAddVariant" | "run" | "problem"> {
  return { kind, file: null, activate: null, aggregation: false, variants: null, canAddVariant: false, run: null,
    problem: null };
}

export interface GraphState {
  graph: FlowGraph;
  runs: Record<string, NodeRun>;
  problems: Record<string, NodeProblem[]>;
}

/**
 * The view of a flow graph. `viewed` names the variant the user looks at per node (the default
 * otherwise). Positions are left at 0: the layout places the nodes.
 */
export function toGraphView(state: GraphState, viewed: Record<string, string> = {}): GraphView {
  const { graph, runs, problems } = state;
  const nodes: ViewNode[] = [];
  for (const input of graph.inputs) {
    nodes.push({ id: `inputs.${input.name}`, type: "flowInput", position: { x: 0, y: 0 }, width: PORT_WIDTH,
      height: PORT_HEIGHT, data: { ...base("flowInput"), label: input.name, icon: "in", typeLabel: input.type ?? "string",
        handles: [] } });
  }
  for (const node of graph.nodes) {
    const top = inputsTop(node);
    const required = new Set(node.parameters.filter((p) => p.required).map((p) => p.name));
    const handles: HandleView[] = handleNames(node).map((name, index) => ({ id: name, label: name,
      y: top + ROW_HEIGHT * index + ROW_HEIGHT / 2, set: Object.prototype.hasOwnProperty.call(node.inputs, name),
      required: required.has(name) }));
    if (node.activate) {
      handles.push({ id: ACTIVATE, label: "activate", y: HEADER_CENTER, set: true, required: false });
    }
    nodes.push({ id: node.name, type: "flowNode", position: { x: 0, y: 0 }, width: NODE_WIDTH, height: nodeHeight(node),
      data: { ...base("flowNode"), label: node.name, icon: iconFor(node), typeLabel: node.type ?? "?",
        file: node.tool ?? node.source, aggregation: node.aggregation,
        activate: node.activate ? `if ${display(node.activate.when)} is ${display(node.activate.is)}` : null,
        variants: variantView(node, viewed[node.name]), canAddVariant: node.type === "llm" || node.type === "prompt",
        run: runView(runs[node.name]), problem: problemView(problems[node.name]), handles } });
  }
  for (const output of graph.outputs) {
    nodes.push({ id: `outputs.${output.name}`, type: "flowOutput", position: { x: 0, y: 0 }, width: PORT_WIDTH,
      height: PORT_HEIGHT, data: { ...base("flowOutput"), label: output.name, icon: "out",
        typeLabel: output.reference ?? "", handles: [{ id: REFERENCE, label: REFERENCE, y: PORT_HEIGHT / 2, set: true,
          required: false }] } });
  }
  const handles = new Map(nodes.map((n) => [n.id, new Set(n.data.handles.map((h) => h.id))]));
  const edges: ViewEdge[] = [];
  const seen = new Set<string>();
  for (const edge of graph.edges) {
    const targetHandles = handles.get(edge.target);
    if (!handles.has(edge.source) || edge.source.startsWith("outputs.") || !targetHandles) {
      continue;  // a reference to nothing: the problems say so
    }
    const activate = edge.activate === true;
    const targetHandle = edge.target.startsWith("outputs.") ? REFERENCE : activate ? ACTIVATE : edge.port;
    const id = `${edge.source}->${edge.target}:${targetHandle}`;
    if (!targetHandles.has(targetHandle) || seen.has(id)) {
      continue;
    }
    seen.add(id);
    const node = activate ? graph.nodes.find((n) => n.name === edge.target) : undefined;
    edges.push({ id, source: edge.source, target: edge.target, sourceHandle: OUT, targetHandle, type: "routed",
      data: { activate, port: edge.port, badge: activate && node?.activate ? `is ${display(node.activate.is)}` : null } });
  }
  return { nodes, edges };
}

/** The next free `variant_N` of a node (its variants are `variant_0` ... when it has any). */
export function nextVariantId(node: GraphNode): string {
  const ids = new Set(node.variants?.map((v) => v.id) ?? node.variant_ids ?? []);
  let index = ids.size === 0 ? 1 : 0;  // a node without variants becomes variant_0, the new one variant_1
  while (ids.has(`variant_${index}`)) {
    index += 1;
  }
  return `variant_${index}`;
}
