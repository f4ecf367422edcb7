/**
 * Run events → the tree the run panel shows: each run, its nodes in execution order, their details;
 * how a run's answer, a lost language server or a reloaded window end the runs still going on; and
 * what to tell the user about a run that did not get going. Pure and free of VS Code, so it is
 * unit-tested in plain Node and shared with the webview.
 */

import type { ErrorInfo, FlowEvent, RunResult, Status, Tokens } from "./protocol";

export interface NodeView {
  name: string;
  status: Status;
  start?: string;
  durationMs?: number;
  tokens?: Tokens;
  inputs?: Record<string, unknown>;
  output?: unknown;
  /** Lines the node printed or logged, with their stream. */
  logs: { stream: string; message: string }[];
  /** Text streamed by an LLM node so far. */
  streamed: string;
  /** What an LLM node sent: chat messages or a completion prompt. */
  prompt?: unknown;
  error?: ErrorInfo;
}

export interface RunView {
  runId: string;
  /** flow.dag.yaml the run belongs to (as the engine reported it). */
  flow: string;
  /** The node, for a single-node run. */
  node?: string;
  status: Status;
  start?: string;
  durationMs?: number;
  inputs?: Record<string, unknown>;
  outputs?: unknown;
  error?: ErrorInfo;
  failedNode?: string;
  tokens?: Tokens;
  metrics?: Record<string, unknown>;
  nodes: NodeView[];
}

/** Runs, newest first. */
export type RunHistory = readonly RunView[];

/** How many runs the history keeps (and the workspace remembers across reloads). */
export const HISTORY_LIMIT = 50;

function updateNode(run: RunView, name: string, change: (node: NodeView) => NodeView): RunView {
  const index = run.nodes.findIndex((n) => n.name === name);
  const current: NodeView = index >= 0 ? run.nodes[index] : { name, status: "Running", logs: [], streamed: "" };
  const nodes = [...run.nodes];
  if (index >= 0) {
    nodes[index] = change(current);
  } else {
    nodes.push(change(current));
  }
  return { ...run, nodes };
}

/** The run after one event (a new object; the old one is left as it was). */
export function applyToRun(run: RunView, event: FlowEvent): RunView {
  switch (event.type) {
    case "run_start":
      return { ...run, start: event.start, inputs: event.inputs, flow: String(event.flow ?? run.flow) };
    case "node_start":
      return updateNode(run, event.node ?? "?", (n) => ({ ...n, status: "Running", start: event.start,
        inputs: event.inputs }));
    case "node_end":
      return updateNode(run, event.node ?? "?", (n) => ({
        ...n, status: event.status ?? "Completed", start: n.start ?? event.start, durationMs: event.duration_ms,
        tokens: event.tokens, output: event.output, error: event.error, prompt: event.prompt ?? n.prompt,
      }));
    case "log":
      return updateNode(run, event.node ?? "?", (n) => ({
        ...n, logs: [...n.logs, { stream: event.stream ?? "stdout", message: event.message ?? "" }],
      }));
    case "llm_token":
      return updateNode(run, event.node ?? "?", (n) => ({ ...n, streamed: n.streamed + (event.message ?? "") }));
    case "run_end":
      return {
        ...run, status: event.status ?? "Completed", durationMs: event.duration_ms, outputs: event.output,
        error: event.error, tokens: event.tokens,
        failedNode: typeof event.failed_node === "string" ? event.failed_node : undefined,
        metrics: isRecord(event.metrics) ? event.metrics : undefined,
        // a node still running when the run ended was stopped with it
        nodes: run.nodes.map((n) => n.status === "Running" ? { ...n, status: "Canceled" } : n),
      };
    default:
      return run;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The marker the language server leaves where it clipped a value too large for the editor (server
 * engine/clip.py): at the end of a cut string, as the last item of a cut list, under the `…` key of
 * a cut object.
 */
const CLIP_MARKER = /… \[[\d,]+ more (?:characters|items|keys); run `flowline flow test --events FILE` for the whole value\]$/;
const CLIP_END = " for the whole value]";

/** Whether the language server clipped `value` or something in it: it is then not the whole value a node produced. */
export function isClipped(value: unknown): boolean {
  if (typeof value === "string") {
    return value.endsWith(CLIP_END) && CLIP_MARKER.test(value.slice(-200));  // the marker is shorter than 200
  }
  if (Array.isArray(value)) {
    return value.some(isClipped);
  }
  return isRecord(value) && Object.values(value).some(isClipped);
}

/** The history after one event: a `run_start` adds a run on top, other events update theirs. */
export function applyEvent(history: RunHistory, event: FlowEvent): RunHistory {
  const index = history.findIndex((r) => r.runId === event.run_id);
  if (index < 0) {
    if (event.type !== "run_start") {
      return history;  // an event of a run this panel never saw start
    }
    const fresh: RunView = { runId: event.run_id, flow: String(event.flow ?? ""), node: event.node, status: "Running",
      nodes: [] };
    return [applyToRun(fresh, event), ...history].slice(0, HISTORY_LIMIT);
  }
  const updated = [...history];
  updated[index] = applyToRun(history[index], event);
  return updated;
}

/** A run that could not start (an invalid flow, bad inputs): shown in the history with its reason. */
export function failedToStart(history: RunHistory, flow: string, node: string | undefined, error: ErrorInfo,
                              runId: string): RunHistory {
  const run: RunView = { runId, flow, node, status: "Failed", error, nodes: [] };
  return [run, ...history].slice(0, HISTORY_LIMIT);
}

/**
 * The history once a run's answer arrived: a run still Running ends as the answer says (the server
 * sends a `run_end` for every run; this covers one that got lost), a run the panel never saw is added.
 */
export function settle(history: RunHistory, result: RunResult, flow: string, node: string | undefined): RunHistory {
  if (result.run_id === null || result.status === "NeedsInputs") {
    return history;
  }
  const end: FlowEvent = { type: "run_end", run_id: result.run_id, status: result.status, output: result.outputs,
    error: result.error };
  const index = history.findIndex((r) => r.runId === result.run_id);
  if (index < 0) {
    return [applyToRun({ runId: result.run_id, flow, node, status: "Running", nodes: [] }, end), ...history]
      .slice(0, HISTORY_LIMIT);
  }
  if (history[index].status !== "Running") {
    return history;
  }
  const updated = [...history];
  updated[index] = applyToRun(history[index], end);
  return updated;
}

/**
 * Runs still Running that `pick` chooses end with `status` and `error` (their running nodes as
 * Canceled): nothing will tell their end any more (their server stopped, the window reloaded).
 */
export function endRunning(history: RunHistory, status: Status, error: ErrorInfo,
                           pick: (run: RunView) => boolean = () => true): RunHistory {
  return history.map((run) => run.status === "Running" && pick(run)
    ? applyToRun(run, { type: "run_end", run_id: run.runId, status, error, output: run.outputs })
    : run);
}

/** The history as the workspace keeps it: the text streamed by LLM nodes is in their outputs once they end. */
export function forStorage(history: RunHistory): RunHistory {
  return history.slice(0, HISTORY_LIMIT).map((run) => ({ ...run,
    nodes: run.nodes.map((n) => n.status === "Running" || !n.streamed ? n : { ...n, streamed: "" }) }));
}

function isRunView(value: unknown): value is RunView {
  return isRecord(value) && typeof value.runId === "string" && typeof value.flow === "string"
    && typeof value.status === "string" && Array.isArray(value.nodes);
}

/**
 * A history read back from the workspace (anything malformed is left out); a run that was going on
 * when the window closed ends as Failed with `error`.
 */
export function restore(saved: unknown, error: ErrorInfo): RunHistory {
  return Array.isArray(saved) ? endRunning(saved.filter(isRunView).slice(0, HISTORY_LIMIT), "Failed", error) : [];
}

export const INSTALL_REQUIREMENTS = "Install requirements.txt";
export const SELECT_INTERPRETER = "Select Python Interpreter";

/** A notification about a run: its text and the buttons it offers. */
export interface RunNotice {
  message: string;
  actions: string[];
}

/**
 * What to tell the user about a run beyond the run panel: a missing package (with a way to get it:
 * the flow's requirements.txt when `hasRequirements`, or another interpreter), a run that never
 * started (an invalid flow, bad inputs, a crash before the first event); nothing for other runs.
 */
export function runNotice(result: RunResult, title: string, python: string | undefined, hasRequirements: boolean)
  : RunNotice | undefined {
  const verb = result.started === false ? "did not run" : "failed";
  if (result.missing_module) {
    return { message: `${title} ${verb}: No module named '${result.missing_module}' (${python ?? "the Python "
      + "interpreter"} lacks that package).`,
    actions: [...(hasRequirements ? [INSTALL_REQUIREMENTS] : []), SELECT_INTERPRETER] };
  }
  if (result.status === "Failed" && result.started === false) {
    return { message: `${title} ${verb}: ${result.error?.message ?? "see the run panel"}`, actions: [] };
  }
  return undefined;
}

/** A run's title: its flow folder's name, and the node for a single-node run. */
export function runTitle(flow: string, node: string | undefined): string {
  const name = flow.split(/[\\/]/).slice(-2, -1)[0] ?? flow;
  return node ? `${name} · node ${node}` : name;
}

/** "1.2 s", "35 ms", "0.4 ms": short durations for the tree. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) {
    return "";
  }
  if (ms >= 1000) {
    return `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1)} s`;
  }
  return ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

/** "12 tokens (8 + 4)" or "". */
export function formatTokens(tokens: Tokens | undefined): string {
  if (!tokens || !tokens.total) {
    return "";
  }
  return `${tokens.total} tokens (${tokens.prompt ?? 0} + ${tokens.completion ?? 0})`;
}
