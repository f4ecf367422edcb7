/**
 * The visual editor's pure rules (unit-tested in plain Node; the webview bundles it): which
 * references a node input may take, how text typed into an input becomes a value, node names, the
 * add-node menu, and which node a line of flow.dag.yaml belongs to. Where the graph's boxes go is
 * graphModel.ts and graphLayout.ts.
 */

import type { FlowEdit, FlowGraph, GraphNode } from "./protocol";

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
      const value = JSON.parse(trimmed) as unknown;
      return typeof value === "number" && !Number.isFinite(value) ? text : value;  // 1e400 is no number YAML keeps
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

/**
 * A name a node's new input may take: a Python identifier (a tool takes its inputs as parameters) the node has not
 * set yet (a tool parameter left unset may be named: that sets it).
 */
export function inputNameProblem(node: GraphNode, name: string): string | null {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    return `'${name}' is not a valid input name: a tool takes its inputs as Python parameters (letters, digits, _).`;
  }
  if (Object.prototype.hasOwnProperty.call(node.inputs, name)) {
    return `'${node.name}' already has an input '${name}': set it in its row above.`;
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
