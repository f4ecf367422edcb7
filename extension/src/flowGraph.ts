/**
 * The visual editor's pure model (unit-tested in plain Node; the webview bundles it): where each
 * flow input, node and output sits in a left-to-right layered drawing, the curves between them,
 * which references a node input may take, how text typed into an input becomes a value, and which
 * node a line of flow.dag.yaml belongs to.
 */

import type { FlowEdit, FlowGraph, GraphNode } from "./protocol";

export const BOX_WIDTH = 180;
export const BOX_HEIGHT = 52;
const GAP_X = 70;
const GAP_Y = 22;
const MARGIN = 16;

export type BoxKind = "input" | "node" | "output";

export interface Box {
  /** `inputs.<name>`, the node name, or `outputs.<name>` (the ids the edges use). */
  id: string;
  kind: BoxKind;
  label: string;
  layer: number;
  x: number;
  y: number;
}

export interface Line {
  source: string;
  target: string;
  port: string;
  /** An SVG path from the source's right side to the target's left side. */
  path: string;
}

export interface Layout {
  boxes: Box[];
  lines: Line[];
  width: number;
  height: number;
}

/**
 * Layers by longest path from the flow inputs (a node sits one column right of everything it
 * reads), rows ordered to follow their sources, columns centred. A cycle cannot push a node past
 * the last column: layers stop growing after as many passes as there are nodes.
 */
export function layout(graph: FlowGraph): Layout {
  const layer = new Map<string, number>();
  for (const input of graph.inputs) {
    layer.set(`inputs.${input.name}`, 0);
  }
  for (const node of graph.nodes) {
    layer.set(node.name, 1);
  }
  const nodeEdges = graph.edges.filter((e) => layer.has(e.source) && layer.has(e.target));
  for (let pass = 0; pass < graph.nodes.length; pass += 1) {
    let moved = false;
    for (const edge of nodeEdges) {
      const wanted = (layer.get(edge.source) ?? 0) + 1;
      if (wanted > (layer.get(edge.target) ?? 1) && wanted <= graph.nodes.length) {
        layer.set(edge.target, wanted);
        moved = true;
      }
    }
    if (!moved) {
      break;
    }
  }
  const last = Math.max(0, ...graph.nodes.map((n) => layer.get(n.name) ?? 1)) + 1;
  const items: Omit<Box, "x" | "y">[] = [
    ...graph.inputs.map((i) => ({ id: `inputs.${i.name}`, kind: "input" as const, label: i.name, layer: 0 })),
    ...graph.nodes.map((n) => ({ id: n.name, kind: "node" as const, label: n.name, layer: layer.get(n.name) ?? 1 })),
    ...graph.outputs.map((o) => ({ id: `outputs.${o.name}`, kind: "output" as const, label: o.name, layer: last })),
  ];
  const columns: Omit<Box, "x" | "y">[][] = [];
  for (const item of items) {
    (columns[item.layer] ??= []).push(item);
  }
  // One sweep left to right: order each column by the mean row of its sources (stable for ties).
  const row = new Map<string, number>();
  const sources = new Map<string, string[]>();
  for (const edge of graph.edges) {
    sources.set(edge.target, [...(sources.get(edge.target) ?? []), edge.source]);
  }
  for (const column of columns) {
    if (!column) {
      continue;
    }
    const weight = (id: string, index: number): number => {
      const rows = (sources.get(id) ?? []).map((s) => row.get(s)).filter((r): r is number => r !== undefined);
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : index;
    };
    const ordered = column.map((item, index) => ({ item, index, weight: weight(item.id, index) }))
      .sort((a, b) => a.weight - b.weight || a.index - b.index);
    ordered.forEach(({ item }, index) => row.set(item.id, index));
    column.splice(0, column.length, ...ordered.map((o) => o.item));
  }
  // Array.from, not map: map keeps the holes of a layer without boxes (no flow inputs), and max(NaN) is NaN.
  const tallest = Math.max(1, ...Array.from(columns, (c) => c?.length ?? 0));
  const height = MARGIN * 2 + tallest * BOX_HEIGHT + (tallest - 1) * GAP_Y;
  const boxes: Box[] = [];
  columns.forEach((column, index) => {
    if (!column) {
      return;
    }
    const top = (height - (column.length * BOX_HEIGHT + (column.length - 1) * GAP_Y)) / 2;
    column.forEach((item, position) => boxes.push({ ...item, x: MARGIN + index * (BOX_WIDTH + GAP_X),
      y: Math.round(top + position * (BOX_HEIGHT + GAP_Y)) }));
  });
  const at = new Map(boxes.map((b) => [b.id, b]));
  const lines: Line[] = [];
  for (const edge of graph.edges) {
    const from = at.get(edge.source);
    const to = at.get(edge.target);
    if (from && to) {
      lines.push({ source: edge.source, target: edge.target, port: edge.port, path: curve(from, to) });
    }
  }
  const width = MARGIN * 2 + columns.length * BOX_WIDTH + Math.max(0, columns.length - 1) * GAP_X;
  return { boxes, lines, width, height };
}

function curve(from: Box, to: Box): string {
  const x1 = from.x + BOX_WIDTH;
  const y1 = from.y + BOX_HEIGHT / 2;
  const x2 = to.x;
  const y2 = to.y + BOX_HEIGHT / 2;
  const bend = Math.max(40, Math.abs(x2 - x1) / 2);
  return `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
}

/** Nodes that read `name`'s output, directly or not (a reference to one of them would make a cycle). */
export function downstream(graph: FlowGraph, name: string): Set<string> {
  const found = new Set<string>();
  const stack = [name];
  while (stack.length) {
    const current = stack.pop() as string;
    for (const edge of graph.edges) {
      if (edge.source === current && !found.has(edge.target) && !edge.target.startsWith("outputs.")) {
        found.add(edge.target);
        stack.push(edge.target);
      }
    }
  }
  return found;
}

/** The references a node input may take: every flow input, and every node that would not make a cycle. */
export function referenceChoices(graph: FlowGraph, node: string): string[] {
  const below = downstream(graph, node);
  const aggregation = new Set(graph.nodes.filter((n) => n.aggregation).map((n) => n.name));
  return [
    ...graph.inputs.map((i) => `\${inputs.${i.name}}`),
    ...graph.nodes.filter((n) => n.name !== node && !below.has(n.name) && !aggregation.has(n.name))
      .map((n) => `\${${n.name}.output}`),
  ];
}

/**
 * The value of text typed into a node input: numbers, booleans, null, lists and objects in JSON
 * spelling become those values; anything else (references included) stays a string.
 */
export function literal(text: string): unknown {
  const trimmed = text.trim();
  if (/^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null)$/.test(trimmed) || /^[[{]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** A name a new node may take: a Python identifier not used by another node. */
export function nodeNameProblem(graph: FlowGraph, name: string, current?: string): string | null {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    return `'${name}' is not a valid node name: use letters, digits and _ (not first a digit).`;
  }
  if (name !== current && graph.nodes.some((n) => n.name === name)) {
    return `A node named '${name}' already exists.`;
  }
  return null;
}

/** The code tool types a new node may have; the package tools come from the server. */
export const CODE_NODE_TYPES = ["python", "llm", "prompt"];

/** One choice of the add-node menu: a code tool type (`python`) or a package tool (`package:<id>`). */
export interface NodeKind {
  value: string;
  label: string;
  group: "Code" | "Package tools";
  title?: string;
}

/** The add-node menu: the code tool types, then the installed package tools by name. */
export function nodeKinds(graph: FlowGraph): NodeKind[] {
  const code = CODE_NODE_TYPES.map((t): NodeKind => ({ value: t, label: t, group: "Code" }));
  const tools = [...(graph.package_tools ?? [])].sort((a, b) => a.name.localeCompare(b.name))
    .map((t): NodeKind => ({ value: `package:${t.id}`, label: `${t.name} (${t.id})`, group: "Package tools",
      title: t.description || undefined }));
  return [...code, ...tools];
}

/** The edit that adds node `name` of the menu choice `kind` (see `nodeKinds`). */
export function addNodeEdit(graph: FlowGraph, name: string, kind: string): FlowEdit {
  if (!kind.startsWith("package:")) {
    return { kind: "addNode", name, type: kind };
  }
  const id = kind.slice("package:".length);
  const tool = graph.package_tools?.find((t) => t.id === id);
  return { kind: "addNode", name, type: tool?.type ?? "python", tool: id };
}

/**
 * The node a 0-based line of flow.dag.yaml belongs to: a node's span runs from its `- name:` line
 * up to (not into) the next item, so a `- name:` line belongs to the node it starts, and a line
 * after the last node's item (node_variants, a comment) to no node.
 */
export function nodeAtLine(nodes: readonly GraphNode[], line: number): string | undefined {
  return nodes.find((n) => n.span.start_line <= line
    && (line < n.span.end_line || (line === n.span.end_line && n.span.end_col > 0)))?.name;
}
