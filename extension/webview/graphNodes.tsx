/**
 * The visual editor's node and edge components for React Flow: small and dumb, data in (from
 * src/graphModel.ts), callbacks out (through `GraphActions`). A node shows its type icon, name, tool
 * file, badges, variants, run status and a handle per input; an edge follows ELK's route while it
 * still fits its handles, else a simple step path.
 */

import { BaseEdge, type Edge, EdgeLabelRenderer, type EdgeProps, getSmoothStepPath, Handle, type Node, type NodeProps,
  Position } from "@xyflow/react";
import { createContext, useContext } from "react";
import { type Point, roundedPath, routeFits } from "../src/graphLayout";
import { ACTIVATE, HEADER_CENTER, OUT, REFERENCE, type ViewData, type ViewEdge } from "../src/graphModel";

export type FlowNode = Node<ViewData>;
export type FlowEdge = Edge<ViewEdge["data"]>;

/** What a node's own controls do (the variant picker, "Set as default", "Add variant"). */
export interface GraphActions {
  viewVariant(node: string, variant: string): void;
  setDefaultVariant(node: string, variant: string): void;
  addVariant(node: string): void;
}

export const ActionsContext = createContext<GraphActions>({ viewVariant() {}, setDefaultVariant() {}, addVariant() {} });
/** ELK's routes of the current layout, by edge id. */
export const RoutesContext = createContext<ReadonlyMap<string, Point[]>>(new Map());

const MARKS: Record<string, string> = { Completed: "✓", Failed: "✗", Bypassed: "⤼", Canceled: "⊘" };

function StatusMark({ status }: { status: string }) {
  if (status === "Running") {
    return <span className="spinner" role="img" aria-label="Running" />;
  }
  return <span className={`mark status-${status}`} aria-label={status}>{MARKS[status] ?? ""}</span>;
}

function classes(data: ViewData, selected: boolean, kind: string): string {
  return ["box", `kind-${kind}`, data.run ? `status-${data.run.status}` : "", data.problem ? `problem-${data.problem.severity}` : "",
    selected ? "selected" : ""].filter(Boolean).join(" ");
}

function Variants({ node, data }: { node: string; data: ViewData }) {
  const actions = useContext(ActionsContext);
  const variants = data.variants;
  if (!variants) {
    return null;
  }
  const isDefault = variants.shown === variants.defaultId;
  return <>
    <div className="row variants">
      <select className="nodrag variant-picker" aria-label={`Variant of ${node} to look at`} value={variants.shown}
        onClick={(event) => event.stopPropagation()} onChange={(event) => actions.viewVariant(node, event.target.value)}>
        {variants.ids.map((id) => <option key={id} value={id}>{id === variants.defaultId ? `${id} ★` : id}</option>)}
      </select>
      {isDefault ? <span className="badge default" title="The variant a run uses">default</span>
        : <button type="button" className="nodrag link" data-action="set-default-variant"
          onClick={(event) => {
            event.stopPropagation();  // not a click on the node (which shows it in the text)
            actions.setDefaultVariant(node, variants.shown);
          }}>Set as default</button>}
    </div>
    <div className="row variant-info" title={variants.source ?? ""}>
      <span className="type">{variants.type ?? "?"}</span> <span className="file">{variants.source ?? ""}</span>
    </div>
  </>;
}

export function FlowNodeView({ id, data, selected }: NodeProps<FlowNode>) {
  const actions = useContext(ActionsContext);
  const label = [data.label, data.typeLabel, data.run?.status, data.problem ? `has ${data.problem.severity}s` : null]
    .filter(Boolean).join(", ");
  return <div className={classes(data, selected, "node")} data-id={id} title={data.problem?.text} aria-label={label}>
    <div className="head">
      <span className={`icon type-${data.typeLabel}`} title={data.typeLabel}>{data.icon}</span>
      <span className="name">{data.label}</span>
      {data.run ? <StatusMark status={data.run.status} /> : null}
    </div>
    <div className="row sub">
      <span className="file" title={data.file ?? ""}>{data.file ?? ""}</span>
      {data.aggregation ? <span className="badge aggregation" title="Runs once over all lines">Σ aggregation</span> : null}
      {data.activate ? <span className="badge activate" title={data.activate}>⚡ activate</span> : null}
      {data.canAddVariant ? <button type="button" className="nodrag link add-variant" data-action="add-variant"
        title="Add a variant (a copy of the default variant's template)" onClick={(event) => {
          event.stopPropagation();
          actions.addVariant(id);
        }}>+ variant</button>
        : null}
    </div>
    <Variants node={id} data={data} />
    <div className="row run" title={data.run?.error ?? ""}>{data.run ? data.run.text : ""}</div>
    {data.handles.filter((h) => h.id !== ACTIVATE).map((h) => <div key={h.id}
      className={`row port${h.set ? " set" : ""}${h.required && !h.set ? " required" : ""}`}>{h.label}</div>)}
    {data.handles.map((h) => <Handle key={h.id} type="target" position={Position.Left} id={h.id} style={{ top: h.y }}
      className={h.id === ACTIVATE ? "activate" : ""} title={h.label} />)}
    <Handle type="source" position={Position.Right} id={OUT} style={{ top: HEADER_CENTER }} title="output" />
  </div>;
}

export function FlowInputView({ id, data, selected }: NodeProps<FlowNode>) {
  return <div className={classes(data, selected, "input")} data-id={id} aria-label={`input ${data.label}`}>
    <span className="icon">in</span><span className="name">{data.label}</span><span className="type">{data.typeLabel}</span>
    <Handle type="source" position={Position.Right} id={OUT} />
  </div>;
}

export function FlowOutputView({ id, data, selected }: NodeProps<FlowNode>) {
  return <div className={classes(data, selected, "output")} data-id={id} aria-label={`output ${data.label}`}
    title={data.typeLabel}>
    <span className="icon">out</span><span className="name">{data.label}</span>
    <Handle type="target" position={Position.Left} id={REFERENCE} isConnectable={false} />
  </div>;
}

export const NODE_TYPES = { flowNode: FlowNodeView, flowInput: FlowInputView, flowOutput: FlowOutputView };

/** ELK's route with its ends moved onto the handles React Flow measured (a few pixels apart). */
function snapped(route: Point[], source: Point, target: Point): Point[] {
  const points = route.map((p) => ({ ...p }));
  const first = points[0];
  const last = points[points.length - 1];
  if (points.length > 2 && points[1].y === first.y) {
    points[1].y = source.y;
  }
  if (points.length > 2 && points[points.length - 2].y === last.y) {
    points[points.length - 2].y = target.y;
  }
  points[0] = source;
  points[points.length - 1] = target;
  return points;
}

export function RoutedEdge(props: EdgeProps<FlowEdge>) {
  const routes = useContext(RoutesContext);
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, markerEnd, selected } = props;
  const source = { x: sourceX, y: sourceY };
  const target = { x: targetX, y: targetY };
  const route = routes.get(id);
  let path: string;
  let labelAt: Point;
  if (route && routeFits(route, source, target, 8)) {
    const points = snapped(route, source, target);
    path = roundedPath(points);
    labelAt = points[points.length - 2] ?? target;
  } else {
    const [step, x, y] = getSmoothStepPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition,
      borderRadius: 8 });
    path = step;
    labelAt = { x, y };
  }
  const className = ["flow-edge", data?.activate ? "activate" : "", selected ? "selected" : ""].filter(Boolean).join(" ");
  return <>
    <BaseEdge id={id} path={path} markerEnd={markerEnd} className={className} interactionWidth={12} />
    {data?.badge ? <EdgeLabelRenderer>
      <div className="edge-badge nodrag nopan" style={{ transform: `translate(-50%, -50%) translate(${labelAt.x}px, ${labelAt.y}px)` }}>
        {data.badge}</div>
    </EdgeLabelRenderer> : null}
  </>;
}

export const EDGE_TYPES = { routed: RoutedEdge };
