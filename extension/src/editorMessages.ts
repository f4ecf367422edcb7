/**
 * Messages between the visual editor's webview and the extension: one union each way, shared by both
 * sides (the webview bundle imports this file too). The webview starts with `ready`.
 */

import type { FlowEdit, FlowGraph } from "./protocol";

/** The latest run's word on one node, for the graph. */
export interface NodeRun {
  status: string;
  durationMs?: number;
  /** The tokens an LLM call used (total). */
  tokens?: number;
  error?: string;
}

/** A diagnostic of the flow file that falls inside a node (or the flow, under `""`). */
export interface NodeProblem {
  severity: "error" | "warning" | "info";
  message: string;
  /** The diagnostic's code (`unknown-connection`, ...). */
  code?: string;
}

export type ToFlowEditor =
  | { type: "graph"; name: string; graph: FlowGraph; runs: Record<string, NodeRun>;
      problems: Record<string, NodeProblem[]>; running: boolean }
  | { type: "select"; id: string }
  | { type: "unavailable"; reason: string };

export type FromFlowEditor =
  | { type: "ready" }
  | { type: "edit"; edit: FlowEdit; version: number | null }
  | { type: "remove"; node: string; version: number | null }
  /** Shows an element's lines in the text editor beside; `preserveFocus` keeps the keyboard in the graph. */
  | { type: "reveal"; id: string; preserveFocus?: boolean }
  /**
   * Opens the source file a node shows (`file`, relative to the flow folder: a variant's when one is looked at) at
   * `line` (from 0: a tool file's `@tool` function), as the graph gives them; without them, the node's own source.
   */
  | { type: "openSource"; node: string; file?: string; line?: number }
  | { type: "runFlow" }
  | { type: "runNode"; node: string }
  | { type: "debugFlow" }
  | { type: "debugNode"; node: string }
  /** Opens the chat panel of a chat flow ('Flowline: Chat with Flow'). */
  | { type: "openChat" }
  /** Runs 'Flowline: Create Connection...', then draws the graph again with the new connection. */
  | { type: "createConnection" };
