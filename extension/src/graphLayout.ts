/**
 * The visual editor's layout with ELK (the Eclipse Layout Kernel, elkjs), kept pure: the graph and
 * options ELK is given, the positions and edge routes read back, and which nodes moved between two
 * layouts. The webview runs ELK in a worker; the unit tests run the same input through elkjs in Node.
 *
 * Stability: a changed input value or run status does not change the ELK graph (`layoutKey`), so the
 * webview does not lay it out again. When nodes come or go, the previous positions go to ELK as
 * `elk.position` with semi-interactive crossing minimisation (each layer keeps its order), and
 * `stabilize` then keeps every node that was there where it was: only new nodes take ELK's places
 * (shifted as the whole drawing shifted, and clear of the others). "Auto layout" starts afresh.
 */

import { HEADER_CENTER, OUT, type ViewEdge, type ViewNode } from "./graphModel";

export interface Point {
  x: number;
  y: number;
}

/** The options of every layout, in one place (https://eclipse.dev/elk/reference/options.html). */
export const ELK_OPTIONS: Readonly<Record<string, string>> = {
  // Sugiyama-style layers, left to right: flow inputs → nodes → outputs.
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  // Edges bend at right angles between the layers, around the boxes, never through them.
  "elk.edgeRouting": "ORTHOGONAL",
  "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
  // Fewer sweeps than ELK's default (7): a 300-node flow lays out well within the second it may take.
  "elk.layered.thoroughness": "3",
  // Without previous positions the file's order breaks ties, so a flow looks the same on every machine.
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  "elk.layered.nodePlacement.bk.fixedAlignment": "BALANCED",
  "elk.spacing.nodeNode": "28",
  "elk.spacing.edgeNode": "16",
  "elk.spacing.edgeEdge": "10",
  "elk.layered.spacing.nodeNodeBetweenLayers": "70",
  "elk.layered.spacing.edgeNodeBetweenLayers": "20",
  "elk.layered.spacing.edgeEdgeBetweenLayers": "10",
  // Unconnected parts (a node nobody reads yet) are packed beside the rest, not on top of it.
  "elk.separateConnectedComponents": "true",
  "elk.spacing.componentComponent": "40",
  "elk.randomSeed": "1",
  "elk.padding": "[top=20,left=20,bottom=20,right=20]",
};

/** Flows of more nodes than this are laid out with LARGE_OPTIONS. */
export const LARGE_FLOW = 100;

/**
 * Added to ELK_OPTIONS for a large flow: one sweep of crossing minimisation, and no packing of unconnected
 * parts (each costs a layout of its own). A 300-node flow then lays out in about a third of the time, with a
 * few more crossings; a flow of that size is read by zooming into a part of it anyway.
 */
export const LARGE_OPTIONS: Readonly<Record<string, string>> = {
  "elk.layered.thoroughness": "1",
  "elk.separateConnectedComponents": "false",
};

/** Added to ELK_OPTIONS when previous positions are given: keep each layer's order as it was. */
export const STABLE_OPTIONS: Readonly<Record<string, string>> = {
  "elk.layered.crossingMinimization.semiInteractive": "true",
};

export interface ElkPortIn {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  layoutOptions: Record<string, string>;
}

export interface ElkNodeIn {
  id: string;
  width: number;
  height: number;
  ports: ElkPortIn[];
  layoutOptions: Record<string, string>;
}

export interface ElkEdgeIn {
  id: string;
  sources: string[];
  targets: string[];
}

export interface ElkGraphIn {
  id: string;
  layoutOptions: Record<string, string>;
  children: ElkNodeIn[];
  edges: ElkEdgeIn[];
}

/** What ELK answers (the parts read here). */
export interface ElkGraphOut {
  children?: { id: string; x?: number; y?: number }[];
  edges?: { id: string; sections?: { startPoint: Point; endPoint: Point; bendPoints?: Point[] }[] }[];
  width?: number;
  height?: number;
}

export function portId(node: string, handle: string): string {
  return `${node}\u0000${handle}`;
}

/**
 * The ELK graph of a view: nodes at their fixed sizes, a port per handle at the handle's place (the
 * source port on the right, target ports on the left), flow inputs in the first layer and outputs in
 * the last. With `previous` positions, each node known before starts from where it was.
 */
export function elkGraph(view: { nodes: ViewNode[]; edges: ViewEdge[] }, previous?: ReadonlyMap<string, Point>):
  ElkGraphIn {
  const stable = previous !== undefined && previous.size > 0;
  const children = view.nodes.map((node): ElkNodeIn => {
    const ports: ElkPortIn[] = [];
    if (node.type !== "flowOutput") {
      ports.push({ id: portId(node.id, OUT), x: node.width, y: node.type === "flowNode" ? HEADER_CENTER : node.height / 2,
        width: 0, height: 0, layoutOptions: { "elk.port.side": "EAST" } });
    }
    for (const handle of node.data.handles) {
      ports.push({ id: portId(node.id, handle.id), x: 0, y: handle.y, width: 0, height: 0,
        layoutOptions: { "elk.port.side": "WEST" } });
    }
    const layoutOptions: Record<string, string> = { "elk.portConstraints": "FIXED_POS" };
    if (node.type === "flowInput") {
      layoutOptions["elk.layered.layering.layerConstraint"] = "FIRST_SEPARATE";
    } else if (node.type === "flowOutput") {
      layoutOptions["elk.layered.layering.layerConstraint"] = "LAST_SEPARATE";
    }
    const at = previous?.get(node.id);
    if (stable && at) {
      layoutOptions["elk.position"] = `(${Math.round(at.x)},${Math.round(at.y)})`;
    }
    return { id: node.id, width: node.width, height: node.height, ports, layoutOptions };
  });
  const edges = view.edges.map((edge): ElkEdgeIn => ({ id: edge.id, sources: [portId(edge.source, edge.sourceHandle)],
    targets: [portId(edge.target, edge.targetHandle)] }));
  return { id: "flow", children, edges, layoutOptions: { ...ELK_OPTIONS,
    ...(view.nodes.length > LARGE_FLOW ? LARGE_OPTIONS : {}), ...(stable ? STABLE_OPTIONS : {}) } };
}

export interface Placement {
  positions: Map<string, Point>;
  /** Each edge's route as ELK drew it: start, bends, end (absolute, like the positions). */
  routes: Map<string, Point[]>;
}

/** The positions and routes of ELK's answer. */
export function placement(out: ElkGraphOut): Placement {
  const positions = new Map<string, Point>();
  for (const child of out.children ?? []) {
    positions.set(child.id, { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) });
  }
  const routes = new Map<string, Point[]>();
  for (const edge of out.edges ?? []) {
    const section = edge.sections?.[0];
    if (section) {
      routes.set(edge.id, [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]
        .map((p) => ({ x: Math.round(p.x), y: Math.round(p.y) })));
    }
  }
  return { positions, routes };
}

/** The nodes placed in both layouts whose place changed by more than `tolerance` pixels. */
export function movedNodes(before: ReadonlyMap<string, Point>, after: ReadonlyMap<string, Point>, tolerance = 1):
  string[] {
  const moved: string[] = [];
  for (const [id, next] of after) {
    const last = before.get(id);
    if (last && (Math.abs(last.x - next.x) > tolerance || Math.abs(last.y - next.y) > tolerance)) {
      moved.push(id);
    }
  }
  return moved;
}

/**
 * What the layout depends on: the nodes, their sizes and handles, and the edges. Two views with the
 * same key lay out the same, so a changed input value or a run status does not move anything.
 */
export function layoutKey(view: { nodes: ViewNode[]; edges: ViewEdge[] }): string {
  return JSON.stringify([view.nodes.map((n) => [n.id, n.width, n.height, n.data.handles.map((h) => h.id)]),
    view.edges.map((e) => e.id)]);
}

/**
 * A route still fits a drawing when its ends are where the edge's handles are now (a node dragged
 * by hand leaves its edges' routes behind: they are then drawn as simple steps).
 */
export function routeFits(route: readonly Point[] | undefined, source: Point, target: Point, slack = 2): boolean {
  if (!route || route.length < 2) {
    return false;
  }
  const start = route[0];
  const end = route[route.length - 1];
  return Math.abs(start.x - source.x) <= slack && Math.abs(start.y - source.y) <= slack
    && Math.abs(end.x - target.x) <= slack && Math.abs(end.y - target.y) <= slack;
}

/** An SVG path through a route, its corners rounded by up to `radius`. */
export function roundedPath(points: readonly Point[], radius = 8): string {
  if (points.length === 0) {
    return "";
  }
  let path = `M ${points[0].x} ${points[0].y}`;
  for (let i = 1; i < points.length - 1; i += 1) {
    const [a, b, c] = [points[i - 1], points[i], points[i + 1]];
    const r = Math.min(radius, Math.hypot(b.x - a.x, b.y - a.y) / 2, Math.hypot(c.x - b.x, c.y - b.y) / 2);
    const towards = (from: Point, to: Point, d: number): Point => {
      const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
      return { x: from.x + ((to.x - from.x) / length) * d, y: from.y + ((to.y - from.y) / length) * d };
    };
    const p = towards(b, a, r);
    const q = towards(b, c, r);
    path += ` L ${p.x} ${p.y} Q ${b.x} ${b.y} ${q.x} ${q.y}`;
  }
  const last = points[points.length - 1];
  return `${path} L ${last.x} ${last.y}`;
}

/** Where a new node dropped at `at` (flow coordinates) goes: its top-left corner, so it lands under the pointer. */
export function dropPosition(at: Point, width: number, height: number): Point {
  return { x: Math.round(at.x - width / 2), y: Math.round(at.y - height / 2) };
}

export interface Size {
  width: number;
  height: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
}

function overlaps(a: Point, as: Size, b: Point, bs: Size, gap: number): boolean {
  return a.x < b.x + bs.width + gap && b.x < a.x + as.width + gap && a.y < b.y + bs.height + gap
    && b.y < a.y + as.height + gap;
}

/**
 * Moves nodes down, each just clear of the boxes above it that it overlaps, until no two overlap (a node
 * that grew, with a new input row, would otherwise cover the one below it). Nodes that overlap nothing
 * keep their places; the topmost of two that overlap keeps its own.
 */
export function clearOverlaps(positions: Map<string, Point>, sizes: ReadonlyMap<string, Size>, gap = 16): void {
  const none = { width: 0, height: 0 };
  for (let pass = 0; pass < positions.size; pass += 1) {
    let moved = false;
    const ordered = [...positions].sort(([, a], [, b]) => a.y - b.y || a.x - b.x);
    for (let i = 0; i < ordered.length; i += 1) {
      const [upper, above] = ordered[i];
      const upperSize = sizes.get(upper) ?? none;
      for (let j = i + 1; j < ordered.length; j += 1) {
        const [lower, below] = ordered[j];
        if (overlaps(above, upperSize, below, sizes.get(lower) ?? none, 0)) {
          below.y = above.y + upperSize.height + gap;
          moved = true;
        }
      }
    }
    if (!moved) {
      return;
    }
  }
}

/**
 * A new layout that moves no node of the previous one unless it must: nodes known before stay where they
 * were, a new node takes ELK's place for it, shifted by how much ELK shifted the known nodes (the median),
 * then down until it overlaps nothing; a known node that grew pushes down the nodes it would cover
 * (`clearOverlaps`). Routes between two nodes that kept their place stay as they were; a new edge takes
 * ELK's route, shifted alike (the drawing checks that a route still fits).
 */
export function stabilize(previous: Placement, next: Placement, sizes: ReadonlyMap<string, Size>, gap = 16):
  Placement {
  const dx: number[] = [];
  const dy: number[] = [];
  for (const [id, at] of next.positions) {
    const before = previous.positions.get(id);
    if (before) {
      dx.push(at.x - before.x);
      dy.push(at.y - before.y);
    }
  }
  const shift = { x: median(dx), y: median(dy) };
  const positions = new Map<string, Point>();
  for (const id of next.positions.keys()) {
    const before = previous.positions.get(id);
    if (before) {
      positions.set(id, { ...before });  // copied: clearOverlaps may move it, the previous placement stays
    }
  }
  const none = { width: 0, height: 0 };
  for (const [id, at] of next.positions) {
    if (positions.has(id)) {
      continue;
    }
    const size = sizes.get(id) ?? none;
    const place = { x: at.x - shift.x, y: at.y - shift.y };
    for (let tries = 0; tries < 500; tries += 1) {
      const blocker = [...positions].find(([other, p]) => overlaps(place, size, p, sizes.get(other) ?? none, gap));
      if (!blocker) {
        break;
      }
      place.y = blocker[1].y + (sizes.get(blocker[0]) ?? none).height + gap;
    }
    positions.set(id, place);
  }
  clearOverlaps(positions, sizes, gap);
  const routes = new Map<string, Point[]>();
  for (const [id, route] of next.routes) {
    routes.set(id, previous.routes.get(id) ?? route.map((p) => ({ x: p.x - shift.x, y: p.y - shift.y })));
  }
  return { positions, routes };
}
