import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { frame, FrameReader, withFlowlineDefaults } from "../src/dap";
import { debugpyLaunch, enclosingFlow, flowFile, withEventsFile } from "../src/debugLaunch";
import { EventTail } from "../src/eventTail";
import type { FlowEvent } from "../src/protocol";

const inputs = "/tmp/d/inputs.json";
const runtime = { python: "/venv/bin/python", serverRoot: "/ext/server" };

test("a node launch runs `flowline flow test --node` from the flow's folder with the engine as library code", () => {
  const launch = debugpyLaunch({ type: "flowline", request: "launch", name: "n", flow: "/w/f/flow.dag.yaml",
    node: "parse" }, "/w/f/flow.dag.yaml", inputs, runtime);
  assert.equal(launch.module, "flowline");
  assert.deepEqual(launch.args, ["flow", "test", "--flow", "/w/f/flow.dag.yaml", "--inputs", inputs,
    "--node", "parse"]);
  assert.equal(launch.cwd, "/w/f");
  assert.equal(launch.flow, "/w/f/flow.dag.yaml");
  assert.deepEqual(launch.python, ["/venv/bin/python"]);
  assert.equal(launch.justMyCode, true);
  assert.deepEqual(launch.rules, [{ path: "/ext/server/flowline", include: false }]);
  assert.equal(launch.console, "internalConsole");
});

test("a flow launch has no --node; justMyCode false keeps only the user's rules", () => {
  const own = [{ module: "requests", include: true }];
  const launch = debugpyLaunch({ type: "flowline", request: "launch", name: "f", flow: "/w/f", justMyCode: false,
    rules: own, env: { A: "1" } }, "/w/f/flow.dag.yaml", inputs, runtime);
  assert.ok(!(launch.args as string[]).includes("--node"));
  assert.equal(launch.flow, "/w/f/flow.dag.yaml");  // the folder named in the configuration, resolved
  assert.equal(launch.justMyCode, false);
  assert.deepEqual(launch.rules, own);
  assert.deepEqual(launch.env, { A: "1" });
});

test("each launch request gets its events file; other messages pass as they are", () => {
  const launch = { type: "request", command: "launch", seq: 3, arguments: { module: "flowline", args: ["flow", "test"] } };
  const sent = withEventsFile(launch, "/tmp/d/2-events.jsonl");
  assert.deepEqual(sent.arguments.args, ["flow", "test", "--events", "/tmp/d/2-events.jsonl"]);
  assert.deepEqual(launch.arguments.args, ["flow", "test"]);
  const other = { type: "request", command: "setBreakpoints", seq: 4, arguments: {} };
  assert.equal(withEventsFile(other, "/x"), other);
});

test("flow names a folder or its file; the enclosing flow of a tool is found upwards", () => {
  const have = new Set(["/w/f/flow.dag.yaml", "/w/g/flow.dag.yml"]);
  const isFile = (p: string): boolean => have.has(p);
  assert.equal(flowFile("/w/f", isFile), "/w/f/flow.dag.yaml");
  assert.equal(flowFile("/w/g", isFile), "/w/g/flow.dag.yml");
  assert.equal(flowFile("/w/f/flow.dag.yaml", isFile), "/w/f/flow.dag.yaml");
  assert.equal(flowFile("/w/h", isFile), undefined);
  assert.equal(enclosingFlow("/w/f/tools/deep/x.py", isFile), "/w/f/flow.dag.yaml");
  assert.equal(enclosingFlow("/w/f/flow.dag.yaml", isFile), "/w/f/flow.dag.yaml");
  assert.equal(enclosingFlow("/elsewhere/x.py", isFile), undefined);
});

test("frames split anywhere come out whole and in order", () => {
  const bytes = Buffer.concat([frame({ seq: 1, text: "héllo" }), frame({ seq: 2 })]);
  const reader = new FrameReader();
  const seen: unknown[] = [];
  for (let i = 0; i < bytes.length; i += 7) {
    seen.push(...reader.push(bytes.subarray(i, i + 7)));
  }
  assert.deepEqual(seen, [{ seq: 1, text: "héllo" }, { seq: 2 }]);
});

test("debugpy's initialize answer gets User Uncaught Exceptions on by default; nothing else changes", () => {
  const answer = { type: "response", command: "initialize", body: { supportsLogPoints: true,
    exceptionBreakpointFilters: [{ filter: "raised", default: false }, { filter: "uncaught", default: true },
      { filter: "userUnhandled", default: false }] } };
  const changed = withFlowlineDefaults(answer);
  assert.deepEqual(changed.body.exceptionBreakpointFilters.map((f) => [f.filter, f.default]),
    [["raised", false], ["uncaught", true], ["userUnhandled", true]]);
  assert.equal(changed.body.supportsLogPoints, true);
  assert.equal(answer.body.exceptionBreakpointFilters[2].default, false);
  const other = { type: "event", event: "stopped", body: {} };
  assert.equal(withFlowlineDefaults(other), other);
});

test("the events file is read as it grows; a half-written line waits", () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "tail-"));
  const file = path.join(folder, "events.jsonl");
  const seen: FlowEvent[] = [];
  const tail = new EventTail(file, (e) => seen.push(e));
  tail.poll();
  const first = JSON.stringify({ type: "run_start", run_id: "r" }) + "\n";
  const second = Buffer.from(JSON.stringify({ type: "log", run_id: "r", message: "née ✓" }) + "\n");
  fs.writeFileSync(file, Buffer.concat([Buffer.from(first), second.subarray(0, second.indexOf("é") + 1)]));
  tail.poll();
  assert.deepEqual(seen.map((e) => e.type), ["run_start"]);
  fs.appendFileSync(file, second.subarray(second.indexOf("é") + 1));
  tail.poll();
  assert.deepEqual(seen.map((e) => e.message ?? e.type), ["run_start", "née ✓"]);
  fs.rmSync(folder, { recursive: true });
});
