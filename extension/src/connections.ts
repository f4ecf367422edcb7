/**
 * What the extension proposes about connections: the name and type "Flowline: Create Connection..."
 * offers (the connections the open flow names but the store lacks), and what to tell the user when a
 * new flow names a connection that is not stored. Pure (unit-tested in plain Node): the names come
 * from the language server's `unknown-connection` diagnostics (the text each one underlines), the
 * types from the flow's graph.
 */

import { nodeAtLine } from "./flowGraph";
import type { GraphNode } from "./protocol";

/** The code of the diagnostic on a connection name the store lacks (server/flowline/flow/validate.py). */
export const UNKNOWN_CONNECTION = "unknown-connection";
/** The button that runs "Flowline: Create Connection...". */
export const CREATE_CONNECTION = "Create Connection";

export type ConnectionType = "open_ai" | "azure_open_ai";

export interface ConnectionTypeItem {
  label: ConnectionType;
  description: string;
}

const TYPES: readonly ConnectionTypeItem[] = [
  { label: "open_ai", description: "OpenAI, or any OpenAI-compatible server (llama.cpp, vLLM, Ollama…)" },
  { label: "azure_open_ai", description: "Azure OpenAI" },
];

/** A place where the flow names a connection that is not stored: the underlined text and its 0-based line. */
export interface ConnectionUse {
  text: string;
  line: number;
}

/** A connection to propose: the name the flow uses, and the type its node wants. */
export interface MissingConnection {
  name: string;
  type: ConnectionType;
}

/** What `flowline flow init --json` prints. */
export interface InitResult {
  flow: string;
  files: string[];
  /** The connection the new flow's LLM nodes name; null when it has no LLM node. */
  connection: string | null;
  connection_stored: boolean;
}

/** A diagnostic's code as text (VS Code gives a string, a number or `{ value, target }`). */
export function diagnosticCode(code: unknown): string | undefined {
  if (typeof code === "string" || typeof code === "number") {
    return String(code);
  }
  if (typeof code === "object" && code !== null && "value" in code) {
    return String((code as { value: unknown }).value);
  }
  return undefined;
}

/** A connection name as the flow writes it, without the quotes a YAML scalar may have. */
export function connectionName(text: string): string {
  return text.trim().replace(/^(["'])(.*)\1$/, "$2");
}

/**
 * The type of connection a node wants: `azure_open_ai` when its `provider:` says Azure or the tool
 * parameter given `name` is annotated with `AzureOpenAIConnection`; `open_ai` otherwise (also when
 * the node is not known, e.g. a variant's).
 */
export function connectionType(node: GraphNode | undefined, name: string): ConnectionType {
  if (!node) {
    return "open_ai";
  }
  const azureParameter = node.parameters.some((p) => /AzureOpenAIConnection/.test(p.annotation ?? "")
    && node.inputs[p.name] === name);
  return /azure/i.test(node.provider ?? "") || azureParameter ? "azure_open_ai" : "open_ai";
}

/**
 * The connections to propose, once each, in the order the flow first names them; each with the type
 * its node (the one whose lines hold the use) wants. Uses with an empty name are skipped.
 */
export function missingConnections(uses: readonly ConnectionUse[], nodes: readonly GraphNode[]): MissingConnection[] {
  const found = new Map<string, MissingConnection>();
  for (const use of [...uses].sort((a, b) => a.line - b.line)) {
    const name = connectionName(use.text);
    if (name && !found.has(name)) {
      const owner = nodes.find((n) => n.name === nodeAtLine(nodes, use.line));
      found.set(name, { name, type: connectionType(owner, name) });
    }
  }
  return [...found.values()];
}

/**
 * The connection to propose when the command is run with a name (the quick fix "Create connection
 * 'NAME'..." passes it): that name, with the type its node wants when the flow names it among the
 * missing ones, else OpenAI. Undefined when the argument is no name (the palette passes none), so the
 * command proposes from the flow's missing connections.
 */
export function requestedConnection(requested: unknown, missing: readonly MissingConnection[]): MissingConnection | undefined {
  const name = typeof requested === "string" ? connectionName(requested) : "";
  if (!name) {
    return undefined;
  }
  return missing.find((m) => m.name === name) ?? { name, type: "open_ai" };
}

/** The connection types to pick from, the `preferred` one first (it is the one focused). */
export function typeItems(preferred: ConnectionType): ConnectionTypeItem[] {
  return [...TYPES].sort((a, b) => Number(b.label === preferred) - Number(a.label === preferred));
}

/** The name proposed for a new connection of a type when the flow names none that is missing. */
export function defaultName(type: ConnectionType): string {
  return type === "open_ai" ? "openai" : "azure";
}

/** What to tell the user after `flow init` when the new flow's connection is not stored; undefined when it is. */
export function initNotice(result: InitResult): string | undefined {
  const name = result.connection;
  if (name === null || result.connection_stored) {
    return undefined;
  }
  const local = name === "local" ? " (or serve the local model as 'local': make local-llm)" : "";
  return `The new flow's LLM node uses connection '${name}', which is not stored yet: create it${local}, `
    + "or write a stored connection's name in its 'connection:'.";
}
