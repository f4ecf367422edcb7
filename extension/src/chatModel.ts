/**
 * A conversation with a chat flow, as data: which inputs and output hold the chat, the value of the
 * chat input for a message (text and images, by the input's type), the chat history the next turn
 * gets (promptflow's shape), how run events and a run's answer move a turn along, the file that
 * keeps the conversation in the flow folder, and the JSONL a conversation exports to. Pure and free
 * of VS Code, so it is unit-tested in plain Node (chatSession.ts does the rest).
 */

import type { ChatShape, ChatTurn, TurnStatus } from "./chatMessages";
import type { InputField } from "./messages";
import type { ErrorInfo, FlowEvent, FlowGraph, RunResult } from "./protocol";

/** Which of a flow's inputs and outputs hold the chat (from `flowline/graph`'s `chat`). */
export interface ChatRoles {
  /** The chat input: each turn's message. */
  input: string;
  /** Its declared type (`string`, `list`, `image`, ...), which says how a message becomes its value. */
  inputType: string | null;
  /** The chat-history input. */
  history: string;
  /** The chat output (the answer), null for a flow without outputs. */
  output: string | null;
  /** The node whose tokens are the chat output as it streams, null when nothing streams. */
  streamNode: string | null;
  acceptsImages: boolean;
}

/** A turn as the flow folder keeps it: the page's turn and the other inputs' values it ran with. */
export interface StoredTurn extends ChatTurn {
  /** The flow's other inputs (neither the chat input nor the history), typed as the turn's run took them. */
  inputs: Record<string, unknown>;
}

/** A conversation: its turns, oldest first, and the other inputs' values for the next turn (as typed). */
export interface Chat {
  turns: StoredTurn[];
  values: Record<string, unknown>;
}

/** One entry of a chat history, promptflow's shape. */
export interface HistoryEntry {
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** A message the chat input cannot take (an image input without an image). */
export class ChatInputError extends Error {}

export const CHAT_FILE_VERSION = 1;

/** Where a flow folder keeps its conversation, relative to the folder. */
export const CHAT_FILE = [".flowline", "chat.json"];

export function emptyChat(): Chat {
  return { turns: [], values: {} };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The chat roles of a flow, or why it cannot chat (one sentence for the user). */
export function chatRoles(graph: FlowGraph): ChatRoles | string {
  const chat = graph.chat;
  if (!chat) {
    return "the Flowline language server in use does not tell chat flows apart (it is older than the chat panel)";
  }
  if (chat.refusal !== null) {
    return chat.refusal;
  }
  if (!chat.input || !chat.history) {
    return "the flow has no chat input or no chat-history input";
  }
  const input = chat.input;
  return { input, inputType: graph.inputs.find((i) => i.name === input)?.type ?? null, history: chat.history,
    output: chat.output, streamNode: chat.stream_node, acceptsImages: chat.accepts_images };
}

/** The flow's other inputs (the collapsible form): neither the chat input nor the chat history. */
export function otherFields(graph: FlowGraph, roles: ChatRoles): InputField[] {
  return graph.inputs.filter((i) => i.name !== roles.input && i.name !== roles.history)
    .map((i) => ({ name: i.name, type: i.type, default: i.default ?? null, description: i.description ?? null }));
}

export function chatShape(roles: ChatRoles, uri: string, flow: string): ChatShape {
  return { uri, flow, input: roles.input, output: roles.output, acceptsImages: roles.acceptsImages };
}

const DATA_URL = /^data:(image\/[\w.+-]+);base64,(.*)$/s;

/** A data URL (`data:image/png;base64,...`) as promptflow spells an image: `{"data:image/png;base64": "..."}`. */
export function imageValue(dataUrl: string): Record<string, string> | undefined {
  const match = DATA_URL.exec(dataUrl);
  return match ? { [`data:${match[1]};base64`]: match[2] } : undefined;
}

/**
 * The chat input's value for a message, by the input's type: a `list` takes promptflow's parts (the
 * text, unless empty, then each image), an `image` the first image; any other type the text.
 */
export function chatInputValue(text: string, images: readonly string[], type: string | null): unknown {
  const pictures = images.map(imageValue).filter((v): v is Record<string, string> => v !== undefined);
  if (type === "list") {
    return [...(text.trim() ? [text] : []), ...pictures];
  }
  if (type === "image") {
    if (!pictures.length) {
      throw new ChatInputError("The chat input takes an image: attach one to the message.");
    }
    return pictures[0];
  }
  return text;
}

/** The value a turn's message gave the chat input. */
export function messageValue(turn: ChatTurn, roles: ChatRoles): unknown {
  try {
    return chatInputValue(turn.text, turn.images, roles.inputType);
  } catch {
    return turn.text;  // a turn read from a file the flow has since changed under
  }
}

/** The chat history for the turn after `turns`: each completed turn (failed and canceled ones are not history). */
export function chatHistory(turns: readonly ChatTurn[], roles: ChatRoles): HistoryEntry[] {
  return turns.filter((t) => t.status === "Completed")
    .map((t) => ({ inputs: { [roles.input]: messageValue(t, roles) }, outputs: t.outputs ?? {} }));
}

/** A run's inputs for a new message after `turns`: the other inputs, the message and the history. */
export function turnInputs(turns: readonly ChatTurn[], roles: ChatRoles, text: string, images: readonly string[],
                           others: Record<string, unknown>): Record<string, unknown> {
  return { ...others, [roles.input]: chatInputValue(text, images, roles.inputType),
    [roles.history]: chatHistory(turns, roles) };
}

export function newTurn(id: string, text: string, images: string[], inputs: Record<string, unknown>,
                        debug: boolean): StoredTurn {
  return { id, text, images, streamed: "", answer: null, outputs: null, status: "Running", error: null, runId: null,
    durationMs: null, ...(debug ? { debug } : {}), inputs };
}

function turnStatus(status: string | undefined): TurnStatus {
  return status === "Completed" || status === "Canceled" ? status : "Failed";
}

/** A turn once its run ended: the answer is the chat output of the outputs. */
function finished(turn: StoredTurn, roles: ChatRoles, status: string | undefined, outputs: unknown,
                  error: ErrorInfo | undefined, durationMs: number | undefined, failedNode?: string): StoredTurn {
  const ended = turnStatus(status);
  const all = isRecord(outputs) ? outputs : null;
  let why: ErrorInfo | null = error ?? null;
  if (why && failedNode && !why.message.includes(`'${failedNode}'`)) {
    why = { ...why, message: `Node '${failedNode}' failed: ${why.message}` };
  }
  if (!why && ended === "Failed") {
    why = { type: "Failed", message: `The run ended as ${status ?? "failed"} (see the run panel).` };
  }
  return { ...turn, status: ended, outputs: all,
    answer: ended === "Completed" && all && roles.output ? all[roles.output] ?? null : null,
    error: ended === "Completed" ? null : why, durationMs: durationMs ?? turn.durationMs };
}

/** What one run event did to the conversation. */
export interface TurnUpdate {
  /** The turns after the event (the same array when it changed nothing). */
  turns: StoredTurn[];
  /** Text streamed into a turn's answer, to pass on as it comes. */
  token?: { turnId: string; text: string };
  /** Whether a turn's run id or status changed (the conversation is then saved and drawn again). */
  changed: boolean;
}

function replace(turns: StoredTurn[], index: number, turn: StoredTurn): StoredTurn[] {
  const updated = [...turns];
  updated[index] = turn;
  return updated;
}

/**
 * The conversation after one run event: the `run_start` that carries a running turn's tag (its id)
 * gives the turn its run; that run's `llm_token`s from the stream node stream its answer; its
 * `run_end` ends it. Other runs' events change nothing.
 */
export function applyChatEvent(turns: StoredTurn[], event: FlowEvent, roles: ChatRoles): TurnUpdate {
  if (event.type === "run_start") {
    const index = turns.findIndex((t) => t.status === "Running" && t.runId === null && t.id === event.tag);
    return index < 0 ? { turns, changed: false }
      : { turns: replace(turns, index, { ...turns[index], runId: event.run_id }), changed: true };
  }
  const index = turns.findIndex((t) => t.status === "Running" && t.runId !== null && t.runId === event.run_id);
  if (index < 0) {
    return { turns, changed: false };
  }
  const turn = turns[index];
  if (event.type === "llm_token" && roles.streamNode !== null && event.node === roles.streamNode && event.message) {
    return { turns: replace(turns, index, { ...turn, streamed: turn.streamed + event.message }), changed: false,
      token: { turnId: turn.id, text: event.message } };
  }
  if (event.type === "run_end") {
    return { turns: replace(turns, index, finished(turn, roles, event.status, event.output, event.error,
      event.duration_ms, typeof event.failed_node === "string" ? event.failed_node : undefined)), changed: true };
  }
  return { turns, changed: false };
}

/** The conversation once a turn's run answered (it covers a `run_end` that got lost, or a run that never started). */
export function settleTurn(turns: StoredTurn[], turnId: string, result: RunResult, roles: ChatRoles): StoredTurn[] {
  const index = turns.findIndex((t) => t.id === turnId && t.status === "Running");
  if (index < 0) {
    return turns;
  }
  const turn = { ...turns[index], runId: turns[index].runId ?? result.run_id };
  return replace(turns, index, finished(turn, roles, result.status === "NeedsInputs" ? "Failed" : result.status,
    result.outputs, result.error, undefined));
}

/** A running turn (or every one, without `turnId`) ends as `status` with `error`: nothing will tell its end any more. */
export function endTurn(turns: StoredTurn[], status: "Failed" | "Canceled", error: ErrorInfo,
                        turnId?: string): StoredTurn[] {
  return turns.map((t) => t.status === "Running" && (turnId === undefined || t.id === turnId)
    ? { ...t, status, error } : t);
}

/** The conversation as `<flow folder>/.flowline/chat.json` keeps it. */
export function chatFileText(chat: Chat): string {
  return `${JSON.stringify({ version: CHAT_FILE_VERSION, turns: chat.turns, values: chat.values }, null, 1)}\n`;
}

const STATUSES: readonly string[] = ["Running", "Completed", "Failed", "Canceled"];

function readError(value: unknown): ErrorInfo | null {
  return isRecord(value) && typeof value.type === "string" && typeof value.message === "string"
    ? value as unknown as ErrorInfo : null;
}

function readTurn(value: unknown): StoredTurn | undefined {
  if (!isRecord(value) || typeof value.id !== "string" || typeof value.text !== "string"
      || typeof value.status !== "string" || !STATUSES.includes(value.status)) {
    return undefined;
  }
  return {
    id: value.id,
    text: value.text,
    images: Array.isArray(value.images) ? value.images.filter((i): i is string => typeof i === "string") : [],
    streamed: typeof value.streamed === "string" ? value.streamed : "",
    answer: value.answer ?? null,
    outputs: isRecord(value.outputs) ? value.outputs : null,
    status: value.status as TurnStatus,
    error: readError(value.error),
    runId: typeof value.runId === "string" ? value.runId : null,
    durationMs: typeof value.durationMs === "number" ? value.durationMs : null,
    ...(value.debug === true ? { debug: true } : {}),
    inputs: isRecord(value.inputs) ? value.inputs : {},
  };
}

/**
 * A conversation read back from its file: a missing, broken or foreign file gives an empty chat (never
 * an error), a malformed turn is left out, and a turn still Running (the window closed while it ran)
 * ends as Canceled with `interrupted`.
 */
export function readChat(text: string | undefined, interrupted: ErrorInfo): Chat {
  let saved: unknown;
  try {
    saved = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return emptyChat();
  }
  if (!isRecord(saved) || saved.version !== CHAT_FILE_VERSION || !Array.isArray(saved.turns)) {
    return emptyChat();
  }
  const seen = new Set<string>();
  const turns: StoredTurn[] = [];
  for (const value of saved.turns) {
    const turn = readTurn(value);
    if (turn && !seen.has(turn.id)) {
      seen.add(turn.id);
      turns.push(turn);
    }
  }
  return { turns: endTurn(turns, "Canceled", interrupted), values: isRecord(saved.values) ? saved.values : {} };
}

/**
 * The conversation as a data file for `flowline run create --data`: one JSON line per completed turn,
 * `{<chat input>: message, <history>: [the completed turns before it], ...the other inputs it ran with,
 * <chat output>: answer}` (the answer is the expected one, for an evaluation).
 */
export function exportLines(turns: readonly StoredTurn[], roles: ChatRoles): string[] {
  const lines: string[] = [];
  turns.forEach((turn, index) => {
    if (turn.status !== "Completed") {
      return;
    }
    const line: Record<string, unknown> = { [roles.input]: messageValue(turn, roles),
      [roles.history]: chatHistory(turns.slice(0, index), roles) };
    for (const [name, value] of Object.entries(turn.inputs)) {
      if (name !== roles.input && name !== roles.history) {
        line[name] = value;
      }
    }
    if (roles.output) {
      line[roles.output] = turn.answer;
    }
    lines.push(JSON.stringify(line));
  });
  return lines;
}

/**
 * The `flowline run create` arguments that run the flow over an exported chat (`exportLines`): each exported
 * input is mapped to its column, since an input with a default keeps it otherwise (promptflow 1.18.5 maps
 * only the inputs without a default by name), and the chat input and history usually have one.
 */
export function exportRunArgs(folder: string, file: string, lines: readonly string[], roles: ChatRoles): string[] {
  const columns = new Set<string>();
  for (const line of lines) {
    for (const key of Object.keys(JSON.parse(line) as Record<string, unknown>)) {
      if (key !== roles.output) {
        columns.add(key);
      }
    }
  }
  return ["run", "create", "--flow", folder, "--data", file,
    "--column-mapping", ...[...columns].map((column) => `${column}=\${data.${column}}`)];
}

