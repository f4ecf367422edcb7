/**
 * The visual editor's graph surface: React Flow with the flow's nodes at the places the layout gave
 * them, a minimap, zoom and fit controls; clicking, double-clicking, dragging a connection, dropping
 * a new node from the palette, the keyboard (arrows between nodes, Enter, Delete) and Ctrl+F's search
 * box. It keeps no model of the flow: every change goes out through `GraphCallbacks`.
 */

import { applyEdgeChanges, applyNodeChanges, Background, type Connection, Controls, type EdgeChange, type FinalConnectionState,
  MiniMap, type NodeChange, type NodeHandle, Position, ReactFlow, ReactFlowProvider, useReactFlow, type Viewport }
  from "@xyflow/react";
import { type DragEvent, type KeyboardEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import type { Placement, Point } from "../src/graphLayout";
import { type GraphView, HEADER_CENTER, OUT, REFERENCE } from "../src/graphModel";
import { neighbour, searchNodes } from "../src/graphNavigation";
import { ActionsContext, EDGE_TYPES, type FlowEdge, type FlowNode, type GraphActions, NODE_TYPES, RoutesContext }
  from "./graphNodes";

/** The mime type of a palette item being dragged (its value: the add-node menu's choice). */
export const PALETTE_TYPE = "application/x-flowline-node";
/** A flow of this many boxes or fewer fits in view whole: no minimap, which would only cover some of it. */
const MINIMAP_FROM = 20;

export interface GraphCallbacks extends GraphActions {
  select(id: string | null): void;
  /** A click: the element's lines are shown in the text beside. */
  reveal(id: string): void;
  openSource(id: string): void;
  openInspector(id: string): void;
  remove(id: string): void;
  /** An edge was deleted: its reference cleared. */
  clearEdge(edge: FlowEdge): void;
  /** The reason a connection is refused, or null when it is fine. */
  refusal(connection: Connection): string | null;
  connect(connection: Connection): void;
  refused(reason: string): void;
  moved(viewport: Viewport): void;
  dragged(id: string, position: Point): void;
  dropped(kind: string, at: Point): void;
}

export interface GraphProps {
  view: GraphView;
  placement: Placement;
  selected: string | null;
  /** The viewport to start from (kept across reloads), else the graph is fitted. */
  viewport: Viewport | null;
  /** Bumped to fit the view (the Fit button, a new layout). */
  fit: number;
  /** Bumped with `center` to center a node (search, a `select` from the extension). */
  center: { id: string; at: number } | null;
  callbacks: GraphCallbacks;
}

/**
 * Where each node's handles are, as graphNodes.tsx draws them: given to React Flow with the node's size, it draws
 * the edges in the same pass as the nodes instead of measuring every handle first (half the time of a first
 * drawing of 300 nodes).
 */
function handlesOf(node: GraphView["nodes"][number]): NodeHandle[] {
  const at = (id: string, type: "source" | "target", x: number, y: number): NodeHandle =>
    ({ id, type, position: type === "source" ? Position.Right : Position.Left, x, y, width: 1, height: 1 });
  if (node.type === "flowOutput") {
    return [at(REFERENCE, "target", 0, node.height / 2)];
  }
  const out = at(OUT, "source", node.width, node.type === "flowNode" ? HEADER_CENTER : node.height / 2);
  return [out, ...node.data.handles.map((h) => at(h.id, "target", 0, h.y))];
}

/**
 * The view's nodes at their places: the placement's, else where they were drawn before. A node that has neither
 * (new, its layout still running) is hidden until it has one, rather than drawn over another.
 */
function placed(view: GraphView, placement: Placement, selected: string | null, previous: FlowNode[]): FlowNode[] {
  const before = new Map(previous.map((n) => [n.id, n]));
  return view.nodes.map((node) => {
    const position = placement.positions.get(node.id) ?? (before.get(node.id)?.hidden ? undefined
      : before.get(node.id)?.position);
    return { ...node, position: position ?? { x: 0, y: 0 }, hidden: position === undefined, selected: node.id === selected,
      measured: { width: node.width, height: node.height }, handles: handlesOf(node) };
  });
}

function nodeColor(node: FlowNode): string {
  const status = node.data.run?.status;
  return status === "Completed" ? "#3fb950" : status === "Failed" ? "#f85149" : status === "Running" ? "#58a6ff"
    : node.data.problem?.severity === "error" ? "#f85149" : node.type === "flowNode" ? "#8b949e" : "#6e7681";
}

function SearchBox({ ids, onPick, onClose }: { ids: string[]; onPick(id: string): void; onClose(): void }) {
  const [query, setQuery] = useState("");
  const [index, setIndex] = useState(0);
  const found = useMemo(() => searchNodes(ids, query), [ids, query]);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return <div className="graph-search" role="search">
    <input ref={input} aria-label="Find a node by name" placeholder="Find node" value={query} spellCheck={false}
      onChange={(event) => {
        setQuery(event.target.value);
        setIndex(0);
      }}
      onKeyDown={(event) => {
        if (event.key === "Enter" && found.length) {
          event.preventDefault();
          onPick(found[index % found.length]);
          setIndex(index + 1);
        } else if (event.key === "Escape") {
          event.preventDefault();
          onClose();
        }
      }} />
    <span className="count">{query ? `${found.length ? (index % found.length) + 1 : 0} of ${found.length}` : ""}</span>
  </div>;
}

function Surface({ view, placement, selected, viewport, fit, center, callbacks }: GraphProps) {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const [nodes, setNodes] = useState<FlowNode[]>(() => placed(view, placement, selected, []));
  const [edges, setEdges] = useState<FlowEdge[]>(view.edges);
  const [searching, setSearching] = useState(false);
  const wrapper = useRef<HTMLDivElement>(null);
  // New props become nodes and edges in the same render (not in an effect, which would draw every node
  // twice: once as before, once as now).
  const [shown, setShown] = useState({ view, placement, selected });
  if (shown.view !== view || shown.placement !== placement || shown.selected !== selected) {
    setShown({ view, placement, selected });
    setNodes((previous) => placed(view, placement, selected, previous));
    if (shown.view !== view) {
      setEdges((previous) => {
        const chosen = new Set(previous.filter((e) => e.selected).map((e) => e.id));
        return view.edges.map((e) => ({ ...e, selected: chosen.has(e.id) }));
      });
    }
  }
  useEffect(() => {
    if (fit > 0) {
      void flow.fitView({ padding: 0.1, duration: 0 });
    }
  }, [fit, flow]);
  const centerOn = useCallback((id: string) => {
    const node = flow.getNode(id);
    if (node) {
      void flow.setCenter(node.position.x + (node.width ?? 0) / 2, node.position.y + (node.height ?? 0) / 2,
        { zoom: Math.max(flow.getZoom(), 0.8), duration: 0 });
    }
  }, [flow]);
  // A node is centred once it has its place (a node just added waits for its layout).
  const centred = useRef(0);
  useEffect(() => {
    if (center && center.at !== centred.current && placement.positions.has(center.id)) {
      centred.current = center.at;
      centerOn(center.id);
    }
  }, [center, centerOn, placement]);
  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    // Removal goes through the extension (it asks first); React Flow's own delete key is off.
    setNodes((current) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), current));
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange<FlowEdge>[]) => {
    setEdges((current) => applyEdgeChanges(changes.filter((c) => c.type !== "remove"), current));
  }, []);
  const focusNode = useCallback((id: string) => {
    (wrapper.current?.querySelector(`.react-flow__node[data-id="${CSS.escape(id)}"]`) as HTMLElement | null)?.focus();
    callbacks.select(id);
  }, [callbacks]);
  const onKeyDownCapture = useCallback((event: KeyboardEvent<HTMLDivElement>) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "f") {
      event.preventDefault();
      event.stopPropagation();
      setSearching(true);
      wrapper.current?.querySelector<HTMLInputElement>(".graph-search input")?.focus();  // already open
      return;
    }
    const target = event.target as HTMLElement;
    if (target.closest("input, select, textarea, button")) {
      return;
    }
    const id = target.closest<HTMLElement>(".react-flow__node")?.dataset.id;
    if (!id) {
      const edge = edges.find((e) => e.selected);
      if (edge && (event.key === "Delete" || event.key === "Backspace")) {
        event.preventDefault();
        callbacks.clearEdge(edge);
      }
      return;
    }
    let handled = true;
    if (event.key.startsWith("Arrow")) {
      const next = neighbour(nodes.map((n) => ({ id: n.id, position: n.position, width: n.width ?? 0,
        height: n.height ?? 0 })), id, event.key);
      if (next) {
        focusNode(next);
      }
    } else if (event.key === "Enter") {
      callbacks.openInspector(id);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      if (view.nodes.find((n) => n.id === id)?.type === "flowNode") {
        callbacks.remove(id);
      }
    } else if (event.key === "Escape") {
      callbacks.select(null);
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();  // React Flow would move the selected node with the arrows
    }
  }, [callbacks, edges, focusNode, nodes, view]);
  const onDrop = useCallback((event: DragEvent<HTMLDivElement>) => {
    const kind = event.dataTransfer.getData(PALETTE_TYPE);
    if (kind) {
      event.preventDefault();
      callbacks.dropped(kind, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
    }
  }, [callbacks, flow]);
  const onConnectEnd = useCallback((_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid === false && state.toNode && state.fromNode) {
      const [source, target] = state.fromHandle?.type === "target" ? [state.toNode.id, state.fromNode.id]
        : [state.fromNode.id, state.toNode.id];
      const handle = state.fromHandle?.type === "target" ? state.fromHandle.id : state.toHandle?.id;
      callbacks.refused(callbacks.refusal({ source, target, sourceHandle: "out", targetHandle: handle ?? null })
        ?? "That connection is not possible.");
    }
  }, [callbacks]);
  const ids = useMemo(() => view.nodes.map((n) => n.id), [view]);
  // The minimap draws every node again: when the nodes themselves change (another flow, a node added or
  // removed; not a status or a value), it comes a frame after the graph, which then shows sooner
  // (a 300-node flow: about a quarter of a second).
  const nodeSet = useMemo(() => ids.join("\n"), [ids]);
  const [minimapFor, setMinimapFor] = useState("");
  useEffect(() => {
    const frame = requestAnimationFrame(() => setMinimapFor(nodeSet));
    return () => cancelAnimationFrame(frame);
  }, [nodeSet]);
  return <div className="graph" ref={wrapper} onKeyDownCapture={onKeyDownCapture}
    onDragOver={(event) => {
      if (event.dataTransfer.types.includes(PALETTE_TYPE)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
      }
    }} onDrop={onDrop}>
    <ReactFlow<FlowNode, FlowEdge> nodes={nodes} edges={edges} nodeTypes={NODE_TYPES} edgeTypes={EDGE_TYPES}
      onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
      onNodeClick={(_event, node) => {
        callbacks.select(node.id);
        callbacks.reveal(node.id);
      }}
      onNodeDoubleClick={(_event, node) => (node.type === "flowNode" ? callbacks.openSource(node.id) : callbacks.reveal(node.id))}
      onPaneClick={() => callbacks.select(null)}
      onNodeDragStop={(_event, node) => callbacks.dragged(node.id, node.position)}
      isValidConnection={(connection) => callbacks.refusal(connection as Connection) === null}
      onConnect={(connection) => callbacks.connect(connection)} onConnectEnd={onConnectEnd}
      onMoveEnd={(_event, next) => callbacks.moved(next)}
      defaultViewport={viewport ?? undefined} minZoom={0.05} maxZoom={2.5} deleteKeyCode={null}
      elevateEdgesOnSelect attributionPosition="top-right"
      colorMode="system" aria-label="Flow graph">
      <Background gap={20} size={1} />
      {view.nodes.length > MINIMAP_FROM && minimapFor === nodeSet
        ? <MiniMap<FlowNode> pannable zoomable nodeColor={nodeColor} ariaLabel="Minimap of the flow" />
        : null}
      <Controls showInteractive={false} aria-label="Zoom and fit" />
    </ReactFlow>
    {searching ? <SearchBox ids={ids} onPick={(id) => {
      callbacks.select(id);
      centerOn(id);
    }} onClose={() => {
      setSearching(false);
      if (selected) {
        focusNode(selected);  // the keyboard goes back to the graph, on the node found
      }
    }} /> : null}
  </div>;
}

/** Mounts the surface in `element`; `render` then draws it again with new props. */
export function mountGraph(element: HTMLElement): { render(props: GraphProps, actions: GraphActions): void } {
  const root = createRoot(element);
  return {
    render(props, actions) {
      root.render(<ReactFlowProvider>
        <ActionsContext.Provider value={actions}>
          <RoutesContext.Provider value={props.placement.routes}>
            <Surface {...props} />
          </RoutesContext.Provider>
        </ActionsContext.Provider>
      </ReactFlowProvider>);
    },
  };
}
