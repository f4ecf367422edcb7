/**
 * Flowline's own messages on the language-server connection (DESIGN.md sections 5 and 6); the
 * Python side is server/flowline/lsp/commands.py and server/flowline/engine/events.py.
 */

export const EVENT_NOTIFICATION = "flowline/event";
export const GRAPH_REQUEST = "flowline/graph";

export type EventType = "run_start" | "node_start" | "node_end" | "log" | "llm_token" | "run_end";
export type Status = "Completed" | "Failed" | "Bypassed" | "Canceled" | "Running";

export interface ErrorInfo {
  type: string;
  message: string;
  file?: string;
  line?: number;
  traceback?: string;
}

export interface Tokens {
  prompt?: number;
  completion?: number;
  total?: number;
}

/** One run event, as `flowline flow test --events` writes it. */
export interface FlowEvent {
  type: EventType;
  run_id: string;
  line_number?: number;
  node?: string;
  status?: Status;
  inputs?: Record<string, unknown>;
  output?: unknown;
  start?: string;
  end?: string;
  duration_ms?: number;
  tokens?: Tokens;
  error?: ErrorInfo;
  message?: string;
  stream?: string;
  [extra: string]: unknown;
}

/** The answer of `flowline.runFlow` / `flowline.runNode`. */
export interface RunResult {
  run_id: string | null;
  status: Status;
  outputs: unknown;
  error?: ErrorInfo;
}

export interface Span {
  start_line: number;
  start_col: number;
  end_line: number;
  end_col: number;
}

/** What a node can take: a tool parameter or a template variable. */
export interface GraphParameter {
  name: string;
  annotation: string | null;
  /** The default as written in the source, when there is one. */
  default: string | null;
  required: boolean;
}

export interface GraphNode {
  name: string;
  type: string | null;
  aggregation: boolean;
  use_variants: boolean;
  /** `source.path`, relative to the flow folder. */
  source: string | null;
  activate: { when: unknown; is: unknown } | null;
  /** The node's inputs as written (references stay `${...}` strings). */
  inputs: Record<string, unknown>;
  parameters: GraphParameter[];
  span: Span;
  name_span: Span;
}

export interface GraphInput {
  name: string;
  type: string | null;
  default: unknown;
  description: string | null;
  is_chat_history: boolean;
  span: Span;
}

export interface GraphOutput {
  name: string;
  reference: string | null;
  span: Span;
}

export interface GraphEdge {
  /** `inputs.<name>` or a node name. */
  source: string;
  /** A node name or `outputs.<name>`. */
  target: string;
  /** The target's input (`activate` for an activate condition, `reference` for an output). */
  port: string;
}

/** The answer of `flowline/graph`. */
export interface FlowGraph {
  version: number | null;
  inputs: GraphInput[];
  outputs: GraphOutput[];
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** A `flowline.editFlow` request (DESIGN.md section 6); `version` guards against stale edits. */
export type FlowEdit =
  | { kind: "addNode"; name: string; type: string; path?: string }
  | { kind: "removeNode"; name: string }
  | { kind: "renameNode"; name: string; newName: string }
  | { kind: "setInput"; node: string; input: string; value: unknown }
  | { kind: "clearInput"; node: string; input: string }
  | { kind: "connect"; from: string; to: string; input: string };
