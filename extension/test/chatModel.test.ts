import * as assert from "node:assert/strict";
import { test } from "node:test";
import { applyChatEvent, chatFileText, chatHistory, chatInputValue, ChatInputError, type ChatRoles, chatRoles,
  chatShape, endTurn, exportLines, exportRunArgs, newTurn, otherFields, readChat, settleTurn, type StoredTurn, turnInputs }
  from "../src/chatModel";
import type { FlowEvent, FlowGraph, GraphInput } from "../src/protocol";

const span = { start_line: 0, start_col: 0, end_line: 0, end_col: 0 };
const RELOADED = { type: "Interrupted", message: "The window reloaded while this turn was going on." };
const PNG = "data:image/png;base64,iVBORw0KGgo=";
const JPEG = "data:image/jpeg;base64,/9j/4AAQ";

function input(name: string, type: string, extra: Partial<GraphInput> = {}): GraphInput {
  return { name, type, default: null, description: null, is_chat_history: false, span, ...extra };
}

const graph: FlowGraph = {
  version: 1,
  inputs: [input("question", "string", { is_chat_input: true }), input("chat_history", "list", { is_chat_history: true }),
    input("tone", "string", { default: "plain", description: "How to answer." }), input("n", "int")],
  outputs: [{ name: "answer", reference: "${chat.output}", span }],
  nodes: [],
  edges: [],
  chat: { input: "question", history: "chat_history", output: "answer", stream_node: "chat", accepts_images: false,
    refusal: null },
};

const roles = chatRoles(graph) as ChatRoles;

/** A completed turn, as its run would leave it. */
function done(id: string, text: string, answer: string, inputs: Record<string, unknown> = { tone: "plain" }): StoredTurn {
  return { ...newTurn(id, text, [], inputs, false), status: "Completed", answer, outputs: { answer, extra: 1 },
    runId: `run-${id}`, durationMs: 10 };
}

test("a chat flow's roles come from the graph; a flow that cannot chat gives the server's reason", () => {
  assert.deepEqual(roles, { input: "question", inputType: "string", history: "chat_history", output: "answer",
    streamNode: "chat", acceptsImages: false });
  assert.deepEqual(otherFields(graph, roles).map((f) => [f.name, f.type, f.default, f.description]),
    [["tone", "string", "plain", "How to answer."], ["n", "int", null, null]]);
  assert.deepEqual(chatShape(roles, "file:///w/chat-basic/flow.dag.yaml", "chat-basic"), {
    uri: "file:///w/chat-basic/flow.dag.yaml", flow: "chat-basic", input: "question", output: "answer",
    acceptsImages: false });
  const refusal = "the flow has no input marked 'is_chat_input: true' (the message each turn sends)";
  assert.equal(chatRoles({ ...graph, chat: { input: null, history: null, output: null, stream_node: null,
    accepts_images: false, refusal } }), refusal);
  assert.match(String(chatRoles({ ...graph, chat: undefined })), /older than the chat panel/);
});

test("the history holds the completed turns only, in promptflow's shape with all their outputs", () => {
  const failed: StoredTurn = { ...newTurn("t2", "boom?", [], {}, false), status: "Failed",
    error: { type: "ValueError", message: "bad" }, runId: "run-t2" };
  const canceled: StoredTurn = { ...newTurn("t3", "slow?", [], {}, false), status: "Canceled", runId: "run-t3" };
  const turns = [done("t1", "Capital of France?", "Paris."), failed, canceled, done("t4", "And Spain?", "Madrid.")];
  assert.deepEqual(chatHistory(turns, roles), [
    { inputs: { question: "Capital of France?" }, outputs: { answer: "Paris.", extra: 1 } },
    { inputs: { question: "And Spain?" }, outputs: { answer: "Madrid.", extra: 1 } },
  ]);
  assert.deepEqual(turnInputs(turns, roles, "And Italy?", [], { tone: "short", n: 2 }), {
    tone: "short", n: 2, question: "And Italy?", chat_history: chatHistory(turns, roles) });
  assert.deepEqual(turnInputs([], roles, "Hi", [], {}), { question: "Hi", chat_history: [] });
});

test("the chat input's value follows its type: text, promptflow's parts, or the first image", () => {
  assert.equal(chatInputValue("hello", [PNG], "string"), "hello");
  assert.equal(chatInputValue("hello", [], null), "hello");
  assert.deepEqual(chatInputValue("What is this?", [PNG, JPEG], "list"), ["What is this?",
    { "data:image/png;base64": "iVBORw0KGgo=" }, { "data:image/jpeg;base64": "/9j/4AAQ" }]);
  assert.deepEqual(chatInputValue("  ", [PNG], "list"), [{ "data:image/png;base64": "iVBORw0KGgo=" }]);
  assert.deepEqual(chatInputValue("just text", [], "list"), ["just text"]);
  assert.deepEqual(chatInputValue("ignored", [JPEG, PNG], "image"), { "data:image/jpeg;base64": "/9j/4AAQ" });
  assert.throws(() => chatInputValue("no picture", [], "image"), ChatInputError);
  assert.deepEqual(chatInputValue("x", ["not a data url", PNG], "list"), ["x", { "data:image/png;base64": "iVBORw0KGgo=" }]);
  const listRoles: ChatRoles = { ...roles, inputType: "list", acceptsImages: true };
  const turn = { ...done("t1", "Which colour?", "Red."), images: [PNG] };
  assert.deepEqual(chatHistory([turn], listRoles)[0].inputs, { question: ["Which colour?",
    { "data:image/png;base64": "iVBORw0KGgo=" }] });
});

test("events move the turn along: its tagged run_start, the stream node's tokens of its run, its run_end", () => {
  let turns = [done("t1", "Hi", "Hello."), newTurn("t2", "Capital?", [], { tone: "plain" }, false)];
  const events: FlowEvent[] = [
    { type: "run_start", run_id: "other", tag: "someone-else" },
    { type: "run_start", run_id: "r2", tag: "t2", inputs: {} },
    { type: "llm_token", run_id: "r2", node: "chat", message: "Par" },
    { type: "llm_token", run_id: "r2", node: "rewrite", message: "NOT THE ANSWER" },  // another LLM node
    { type: "llm_token", run_id: "other", node: "chat", message: "NOT THIS RUN" },
    { type: "node_end", run_id: "r2", node: "chat", status: "Completed", output: "Paris." },
    { type: "llm_token", run_id: "r2", node: "chat", message: "is." },
    { type: "run_end", run_id: "r2", status: "Completed", output: { answer: "Paris.", context: "c" }, duration_ms: 812 },
  ];
  const tokens: string[] = [];
  const changes: string[] = [];
  for (const event of events) {
    const update = applyChatEvent(turns, event, roles);
    if (update.token) {
      assert.equal(update.token.turnId, "t2");
      tokens.push(update.token.text);
    }
    if (update.changed) {
      changes.push(event.type);
    }
    if (!update.changed && !update.token) {
      assert.equal(update.turns, turns, `${event.type} of ${event.run_id} changed nothing`);
    }
    turns = update.turns;
  }
  assert.deepEqual(tokens, ["Par", "is."]);
  assert.deepEqual(changes, ["run_start", "run_end"]);
  const [first, turn] = turns;
  assert.equal(first.runId, "run-t1");
  assert.deepEqual({ status: turn.status, runId: turn.runId, streamed: turn.streamed, answer: turn.answer,
    outputs: turn.outputs, error: turn.error, durationMs: turn.durationMs },
  { status: "Completed", runId: "r2", streamed: "Paris.", answer: "Paris.", outputs: { answer: "Paris.", context: "c" },
    error: null, durationMs: 812 });
  // a later run_start with the same tag (a rerun from the run panel) is not this turn's any more
  assert.equal(applyChatEvent(turns, { type: "run_start", run_id: "r9", tag: "t2" }, roles).changed, false);
});

test("a failed run names its node; the run's answer settles a turn whose run_end got lost, or that never started", () => {
  let turns = [newTurn("t1", "Hi", [], {}, false)];
  turns = applyChatEvent(turns, { type: "run_start", run_id: "r1", tag: "t1" }, roles).turns;
  const failed = applyChatEvent(turns, { type: "run_end", run_id: "r1", status: "Failed", failed_node: "chat",
    error: { type: "APIConnectionError", message: "Connection refused" } }, roles).turns[0];
  assert.equal(failed.status, "Failed");
  assert.deepEqual(failed.error, { type: "APIConnectionError", message: "Node 'chat' failed: Connection refused" });
  assert.equal(failed.answer, null);

  const lost = settleTurn(turns, "t1", { run_id: "r1", status: "Completed", outputs: { answer: "Hello." } }, roles)[0];
  assert.deepEqual([lost.status, lost.answer, lost.runId], ["Completed", "Hello.", "r1"]);
  const once = settleTurn([lost], "t1", { run_id: "r1", status: "Failed", outputs: null }, roles);
  assert.equal(once[0], lost);  // an ended turn stays as it ended

  const never = settleTurn([newTurn("t2", "Hi", [], {}, false)], "t2", { run_id: null, status: "Failed", outputs: null,
    started: false, error: { type: "InvalidFlow", message: "1 error(s) in the flow" } }, roles)[0];
  assert.deepEqual([never.status, never.runId, never.error?.message], ["Failed", null, "1 error(s) in the flow"]);
  const canceled = settleTurn([newTurn("t3", "Hi", [], {}, false)], "t3", { run_id: "r3", status: "Canceled",
    outputs: null }, roles)[0];
  assert.deepEqual([canceled.status, canceled.error], ["Canceled", null]);
  const stopped = endTurn([newTurn("t4", "Hi", [], {}, false), done("t5", "a", "b")], "Canceled",
    { type: "Canceled", message: "closed" });
  assert.deepEqual(stopped.map((t) => t.status), ["Canceled", "Completed"]);
});

test("the stored file reads back as written; a broken or foreign file is an empty chat; a running turn was canceled", () => {
  const running = { ...newTurn("t2", "Still going?", [PNG], { tone: "plain" }, true), runId: "r2", streamed: "Par" };
  const chat = { turns: [done("t1", "Hi", "Hello."), running], values: { tone: "plain", n: "2" } };
  const back = readChat(chatFileText(chat), RELOADED);
  assert.deepEqual(back.values, chat.values);
  assert.deepEqual(back.turns[0], chat.turns[0]);
  assert.deepEqual(back.turns[1], { ...running, status: "Canceled", error: RELOADED });
  for (const broken of [undefined, "", "{", "null", "[]", "42", JSON.stringify({ turns: [] }),
    JSON.stringify({ version: 99, turns: [done("t1", "a", "b")] }), JSON.stringify({ version: 1, turns: "no" })]) {
    assert.deepEqual(readChat(broken, RELOADED), { turns: [], values: {} }, String(broken));
  }
  const messy = JSON.stringify({ version: 1, values: ["not", "an object"], turns: [
    null, { id: 3, text: "x", status: "Completed" }, { id: "a", text: "x", status: "Thinking" },
    { id: "b", text: "kept", status: "Completed", images: [PNG, 7], outputs: "no", error: { type: 1 }, durationMs: "x" },
    { id: "b", text: "a duplicate", status: "Completed" }] });
  const read = readChat(messy, RELOADED);
  assert.deepEqual(read.values, {});
  assert.deepEqual(read.turns, [{ id: "b", text: "kept", images: [PNG], streamed: "", answer: null, outputs: null,
    status: "Completed", error: null, runId: null, durationMs: null, inputs: {} }]);
});

test("export writes one line per completed turn: message, the history before it, its other inputs, the answer", () => {
  const failed: StoredTurn = { ...newTurn("t2", "boom?", [], { tone: "plain" }, false), status: "Failed" };
  const turns = [done("t1", "Capital of France?", "Paris.", { tone: "plain", n: 1 }), failed,
    done("t3", "And Spain?", "Madrid.", { tone: "short", n: 2 })];
  const lines = exportLines(turns, roles).map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(lines, [
    { question: "Capital of France?", chat_history: [], tone: "plain", n: 1, answer: "Paris." },
    { question: "And Spain?", chat_history: [{ inputs: { question: "Capital of France?" },
      outputs: { answer: "Paris.", extra: 1 } }], tone: "short", n: 2, answer: "Madrid." },
  ]);
  assert.deepEqual(Object.keys(lines[1]), ["question", "chat_history", "tone", "n", "answer"]);
  assert.ok(exportLines(turns, roles).every((line) => !line.includes("\n")));
  assert.deepEqual(exportLines([failed], roles), []);
  const silent = exportLines([done("t1", "Hi", "Hello.")], { ...roles, output: null });
  assert.deepEqual(JSON.parse(silent[0]), { question: "Hi", chat_history: [], tone: "plain" });
  // Every exported input is mapped: an input with a default would keep it otherwise.
  assert.deepEqual(exportRunArgs("/w/chat", "/w/chat/chat.jsonl", exportLines(turns, roles), roles), ["run", "create",
    "--flow", "/w/chat", "--data", "/w/chat/chat.jsonl", "--column-mapping", "question=${data.question}",
    "chat_history=${data.chat_history}", "tone=${data.tone}", "n=${data.n}"]);
});
