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

export interface GraphNode {
  name: string;
  type: string | null;
  span: Span;
  name_span: Span;
}

export interface GraphInput {
  name: string;
  type: string | null;
  default: unknown;
  description: string | null;
}

/** The answer of `flowline/graph`. */
export interface FlowGraph {
  version: number | null;
  inputs: GraphInput[];
  nodes: GraphNode[];
  edges: { source: string; target: string; port: string }[];
}
