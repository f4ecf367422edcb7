/**
 * Messages between the chat panel's webview and the extension: one discriminated union each way,
 * shared by both sides (the webview bundle imports this file too). The webview starts with `ready`;
 * the extension answers with `state`, then sends `token`s while a turn streams and a new `state`
 * whenever the conversation changes.
 */

import type { InputField } from "./messages";
import type { ErrorInfo } from "./protocol";

export type TurnStatus = "Running" | "Completed" | "Failed" | "Canceled";

/** One turn of the conversation: the message sent and the flow's answer (one run of the flow). */
export interface ChatTurn {
  /** The panel's own id of the turn (unique within the chat). */
  id: string;
  /** The text typed, as sent. */
  text: string;
  /** The images attached to the message, as data URLs (`data:image/png;base64,...`). */
  images: string[];
  /** The chat output's tokens so far, while the turn runs (the `token` messages append to it). */
  streamed: string;
  /** The chat output once the turn completed (usually a string; it may hold images). */
  answer: unknown;
  /** Every output of the flow for the turn (what the chat history keeps), once it completed. */
  outputs: Record<string, unknown> | null;
  status: TurnStatus;
  /** Why the turn failed (the node that failed is in the message), or was canceled. */
  error: ErrorInfo | null;
  /** The run that answered: "Open trace" shows it in the run panel. Null until the run started. */
  runId: string | null;
  durationMs: number | null;
  /** Whether the turn ran under the debugger. */
  debug?: boolean;
}

/** The chat flow's roles, as the language server's `flowline/graph` tells them (`graph.chat`). */
export interface ChatShape {
  /** The flow file's uri (the page keeps it, so the panel comes back to its flow after a reload). */
  uri: string;
  /** The flow folder's name (the panel's title). */
  flow: string;
  /** The chat input's name. */
  input: string;
  /** The chat output's name, null for a flow without outputs. */
  output: string | null;
  /** Whether the chat input takes images (a `list` of text and image parts, or an `image`). */
  acceptsImages: boolean;
}

export type ToChat =
  | { type: "state"; shape: ChatShape; turns: ChatTurn[];
      /** The flow's other inputs (neither the chat input nor the history), for the collapsible form. */
      fields: InputField[];
      /** Their values for the next turn. */
      values: Record<string, unknown>;
      /** Whether a turn is running (the input box waits; "Stop" cancels it). */
      running: boolean;
      /** The webview address of the file system's root: output images are files below it (imageValues.ts). */
      imageRoot: string }
  /** More of the running turn's answer (append `text` to the turn's `streamed`). */
  | { type: "token"; turnId: string; text: string };

export type FromChat =
  | { type: "ready" }
  /** Send a message (a new turn), with the other inputs' values as typed; `debug` runs it under the debugger. */
  | { type: "send"; text: string; images: string[]; values: Record<string, unknown>; debug: boolean }
  /** Stop the running turn. */
  | { type: "cancel" }
  /** Forget the conversation (a new chat). */
  | { type: "newChat" }
  /** Save the conversation as a JSONL data file. */
  | { type: "export" }
  /** Show a turn's run (its trace) in the run panel. */
  | { type: "openTrace"; runId: string }
  /** The other inputs' values changed (kept for the next turn and the next window). */
  | { type: "values"; values: Record<string, unknown> };
