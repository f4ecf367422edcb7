/**
 * Flowline's own messages on the language-server connection (DESIGN.md sections 5 and 6); the
 * Python side is server/flowline/lsp/commands.py and server/flowline/engine/events.py.
 */

export const EVENT_NOTIFICATION = "flowline/event";
export const GRAPH_REQUEST = "flowline/graph";

export type EventType = "run_start" | "node_start" | "node_end" | "log" | "llm_token" | "run_end";
export type Status = "Completed" | "Failed" | "Bypassed" | "Canceled" | "Running";

/** A problem a refused run lists (1-based line and column). */
export interface ProblemInfo {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ErrorInfo {
  type: string;
  message: string;
  file?: string;
  line?: number;
  traceback?: string;
  /** The errors in the flow that kept it (or the node) from running. */
  problems?: ProblemInfo[];
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

/** A value a single-node run lacks: a flow input without default, or the output of a node that never ran. */
export interface NodeNeed {
  /** The node input. */
  input: string;
  /** What it references, as written (`${first.output.title}`). */
  reference: string;
  /** The key that gives the value in `flowline.runNode`'s inputs (`first.output.title`, `inputs.topic`). */
  key: string;
  kind: "input" | "node";
  /** A flow input's declared type. */
  type: string | null;
}

/**
 * The answer of `flowline.runFlow` / `flowline.runNode`: how the run ended, whatever happened to it.
 * `NeedsInputs`: the node did not run (no `run_id`); `needs` lists what it lacks.
 */
export interface RunResult {
  run_id: string | null;
  status: Status | "NeedsInputs";
  outputs: unknown;
  error?: ErrorInfo;
  /** Whether the engine started the run (false: it ended before, e.g. an invalid flow or a missing package). */
  started?: boolean;
  exit_code?: number | null;
  /** The module a `ModuleNotFoundError` named. */
  missing_module?: string;
  needs?: NodeNeed[];
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

/** One variant of a `use_variants` node (`node_variants.<node>.variants.<id>.node`). */
export interface GraphVariant {
  id: string;
  type: string | null;
  /** `source.path`, relative to the flow folder. */
  source: string | null;
  /** The line (from 0) its source opens at: a tool file's `@tool` function, else 0; null without a source file. */
  source_line?: number | null;
  /** A package variant's `source.tool`; null for others. */
  tool?: string | null;
  /** The variant's inputs as written (references stay `${...}` strings). */
  inputs: Record<string, unknown>;
  connection?: unknown;
  api?: string | null;
  /** The variant's `node:` mapping in the text. */
  span: Span;
}

export interface GraphNode {
  name: string;
  type: string | null;
  aggregation: boolean;
  use_variants: boolean;
  /**
   * A `use_variants` node's variant ids (`node_variants.<name>.variants`) and default; empty and null
   * for other nodes; absent from servers older than these fields (a user's own `flowline` install).
   */
  variant_ids?: string[];
  default_variant_id?: string | null;
  /** `source.path`, relative to the flow folder. */
  source: string | null;
  /**
   * The line (from 0) the source opens at, where go to definition on the node's name goes: a tool file's `@tool`
   * function, else 0; null without a source file; absent from servers older than it.
   */
  source_line?: number | null;
  activate: { when: unknown; is: unknown } | null;
  /** The node's inputs as written (references stay `${...}` strings). */
  inputs: Record<string, unknown>;
  parameters: GraphParameter[];
  span: Span;
  name_span: Span;
  /** The node's `connection:` as written (a name, unless the YAML says otherwise); the LLM fields are
   * absent from servers older than them (a user's own `flowline` install). */
  connection?: unknown;
  /** The node's `api:` (`chat`, `completion`). */
  api?: string | null;
  /** The node's `provider:` (`OpenAI`, `AzureOpenAI`), which tells the type of connection it wants. */
  provider?: string | null;
  /** A package node's `source.tool` (`my_pkg.tools.search`); null for other nodes. */
  tool?: string | null;
  /**
   * A `use_variants` node's variants, in the file's order (absent or empty for other nodes). The node's own
   * `type`, `source`, `inputs`, `connection`, `api` and `parameters` are its default variant's, and so are
   * its edges.
   */
  variants?: GraphVariant[];
}

/** A tool an installed package registers (or a built-in), which a new node can use. */
export interface PackageToolInfo {
  id: string;
  name: string;
  /** The node type it runs as (`python`, `llm`, `custom_llm`). */
  type: string;
  description: string;
}

export interface GraphInput {
  name: string;
  type: string | null;
  default: unknown;
  description: string | null;
  is_chat_history: boolean;
  /** The input each chat turn's message goes to (`is_chat_input: true`); absent from older servers. */
  is_chat_input?: boolean;
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
  /** The edge of the target's activate condition (not of an input that happens to be named `activate`). */
  activate?: boolean;
}

/** The answer of `flowline/graph`. */
export interface FlowGraph {
  version: number | null;
  inputs: GraphInput[];
  outputs: GraphOutput[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The names of the stored connections (`flowline connection list`), sorted; absent from older servers. */
  connections?: string[];
  /** The model parameters an LLM node may take, in the table's order; absent from older servers. */
  llm_parameters?: LlmParameter[];
  /** The installed package tools; absent from older servers. */
  package_tools?: PackageToolInfo[];
  /** How the chat panel talks to the flow (server/flowline/service/graph.py `chat_info`); absent from older servers. */
  chat?: GraphChat;
}

/**
 * A flow's chat roles. For a flow that cannot chat only `refusal` is set: one sentence saying why
 * ("the flow has no input marked 'is_chat_input: true' ..."); it is null for a chat flow.
 */
export interface GraphChat {
  /** The chat input (the message of each turn). */
  input: string | null;
  /** The chat-history input (`[{inputs, outputs}, ...]`). */
  history: string | null;
  /** The chat output (the answer), null for a flow without outputs. */
  output: string | null;
  /** The node whose streamed tokens are the chat output, when the output is a node's whole output. */
  stream_node: string | null;
  /** The chat input takes images (a `list` of text and image parts, or an `image`). */
  accepts_images: boolean;
  refusal: string | null;
}

/** A `flowline.editFlow` request (DESIGN.md section 6); `version` guards against stale edits. */
export type FlowEdit =
  /** `tool` adds a node of that package tool (`source: {type: package, tool}`) instead of a code tool. */
  | { kind: "addNode"; name: string; type: string; path?: string; tool?: string }
  | { kind: "removeNode"; name: string }
  | { kind: "renameNode"; name: string; newName: string }
  | { kind: "setInput"; node: string; input: string; value: unknown }
  | { kind: "clearInput"; node: string; input: string }
  | { kind: "connect"; from: string; to: string; input: string }
  /** A node-level key (`connection`, `api`, …: NODE_FIELDS in server/flowline/service/edits.py); null removes it.
   * `aggregation: true`, `activate: {when, is}` (null removes them). */
  | { kind: "setNodeField"; node: string; field: string; value: unknown }
  /**
   * Adds variant `variant` to an `llm` or `prompt` node: a node without variants becomes `use_variants: true`
   * with its definition as `variant_0` (the default) under `node_variants`; the new variant is a copy of the
   * default variant whose template is copied to `<node>__<variant>.jinja2` (a file the edit creates).
   */
  | { kind: "addVariant"; node: string; variant: string }
  | { kind: "setDefaultVariant"; node: string; variant: string };

/** One model parameter an LLM node may take (server/flowline/flow/llm_parameters.py). */
export interface LlmParameter {
  name: string;
  /** Its flow type, which says how a typed value is read: `string`, `int`, `double`, `bool`, `list`, `object`. */
  type: string;
  description: string;
  /** Only the completion API takes it. */
  completion_only: boolean;
}
