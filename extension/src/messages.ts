/**
 * Messages between the run panel's webview and the extension: one discriminated union each way,
 * shared by both sides (the webview bundle imports this file too). The webview starts with `ready`.
 */

import type { NodeNeed } from "./protocol";
import type { RunHistory } from "./runModel";

/** A flow input as the run form shows it. */
export interface InputField {
  name: string;
  type: string | null;
  default: unknown;
  description: string | null;
}

/** A flow the panel can run, with its form. */
export interface FlowForm {
  uri: string;
  /** Folder name, for display. */
  name: string;
  fields: InputField[];
  /** The values last used for this flow (remembered per flow). */
  values: Record<string, unknown>;
}

/** A batch or evaluation run from the run store (`flowline run list`). */
export interface BatchRun {
  name: string;
  flow: string;
  status: string;
  created?: string;
  lines_total?: number;
  lines_completed?: number;
  lines_failed?: number;
  metrics?: Record<string, unknown>;
}

/** A node run that lacks values (the nodes it reads from never ran): the form that asks for them. */
export interface NodeForm {
  uri: string;
  node: string;
  /** The run's title, as the history shows it. */
  title: string;
  fields: NodeNeed[];
  /** The values last typed for this node, by field key. */
  values: Record<string, unknown>;
}

export type ToWebview =
  | { type: "state"; runs: RunHistory; flows: FlowForm[]; selected: string | null; running: string[];
      batches: BatchRun[]; nodeForm: NodeForm | null;
      /** The webview address of the file system's root: output images are files below it (imageValues.ts). */
      imageRoot: string;
      /** A run to show: the page opens it and its nodes and scrolls to it (once; later states say null). */
      focus: string | null };

export type FromWebview =
  | { type: "ready" }
  | { type: "run"; uri: string; values: Record<string, unknown> }
  | { type: "runNode"; uri: string; node: string; values: Record<string, string> }
  | { type: "closeNodeForm" }
  | { type: "rerun"; runId: string }
  | { type: "cancel"; runId: string }
  | { type: "select"; uri: string }
  | { type: "open"; file: string; line?: number }
  | { type: "clear" }
  | { type: "report"; names: string[] }
  | { type: "refreshBatches" };
