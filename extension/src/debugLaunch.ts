/**
 * From a `flowline` launch configuration to the launch request debugpy's adapter understands: the
 * flow runs in-process as `python -m flowline flow test ...` from its own folder, its inputs read
 * from a file and its events written to another. Pure, so unit tests run it without VS Code.
 */

import * as path from "path";

/** A `"type": "flowline"` launch configuration as the user (or a code lens) writes it. */
export interface FlowlineLaunch {
  type: string;
  request: string;
  name: string;
  /** A flow folder or its flow.dag.yaml. */
  flow?: string;
  /** Debug only this node; its dependencies' outputs come from `inputs` or the last run. */
  node?: string;
  /** Flow inputs by name (a node also takes `inputs.<name>` and `<dependency>.output`). */
  inputs?: Record<string, unknown>;
  /** Step and stop in the flow's own code only (default true), the same for a node and a flow. */
  justMyCode?: boolean;
  /** Set on the run's `run_start` event (the chat panel's name for a turn's run). */
  tag?: string;
  [other: string]: unknown;
}

/** The interpreter the flow runs with, and where the `flowline` package it imports is. */
export interface DebugRuntime {
  python: string;
  serverRoot: string;
}

const FLOW_FILES = ["flow.dag.yaml", "flow.dag.yml"];

/** The flow.dag.yaml a `flow` value names (a folder or the file), or undefined when there is none. */
export function flowFile(location: string, isFile: (p: string) => boolean): string | undefined {
  if (/\.ya?ml$/.test(location)) {
    return isFile(location) ? location : undefined;
  }
  return FLOW_FILES.map((name) => path.join(location, name)).find(isFile);
}

/** The nearest flow.dag.yaml at or above the folder of `file` (a tool, a template, the flow itself). */
export function enclosingFlow(file: string, isFile: (p: string) => boolean): string | undefined {
  if (FLOW_FILES.includes(path.basename(file))) {
    return file;
  }
  let folder = path.dirname(file);
  for (;;) {
    const found = flowFile(folder, isFile);
    const parent = path.dirname(folder);
    if (found || parent === folder) {
      return found;
    }
    folder = parent;
  }
}

/** The `flowline flow test` arguments of a debug run (the adapter adds `--events`, see withEventsFile). */
export function flowTestArgs(flow: string, node: string | undefined, inputs: string): string[] {
  const args = ["flow", "test", "--flow", flow, "--inputs", inputs];
  return node ? [...args, "--node", node] : args;
}

/**
 * The launch request for debugpy (its `flow` is the flow.dag.yaml it runs). The flow inherits the adapter's environment (the bundled server
 * first on PYTHONPATH); a configuration's `env` adds to it. With justMyCode, Flowline's own engine
 * counts as library code: stepping never enters it, and an exception a tool does not handle stops
 * at the tool's raising line ("User Uncaught Exceptions") instead of only failing the node.
 */
export function debugpyLaunch(config: FlowlineLaunch, flow: string, inputs: string, runtime: DebugRuntime)
  : Record<string, unknown> {
  const justMyCode = config.justMyCode !== false;
  const ownRules = Array.isArray(config.rules) ? config.rules as unknown[] : [];
  const engine = { path: path.join(runtime.serverRoot, "flowline"), include: false };
  return {
    ...config,
    flow,
    module: "flowline",
    args: flowTestArgs(flow, config.node, inputs),
    cwd: path.dirname(flow),
    python: [runtime.python],
    console: "internalConsole",
    justMyCode,
    rules: justMyCode ? [...ownRules, engine] : ownRules,
  };
}

/**
 * The `launch` request on its way to debugpy, writing its events to `file`. Each launch gets a file
 * of its own (a restart launches the same configuration again), so the adapter adds it, not the
 * configuration. Other messages are returned as they are.
 */
export function withEventsFile<T>(message: T, file: string): T {
  const request = message as { type?: string; command?: string; arguments?: { args?: unknown } };
  const args = request.arguments?.args;
  if (request.type !== "request" || request.command !== "launch" || !Array.isArray(args)) {
    return message;
  }
  return { ...message, arguments: { ...request.arguments, args: [...args, "--events", file] } };
}
