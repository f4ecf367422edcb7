/**
 * The visual editor's page on its own, in Chromium with a stand-in for VS Code's webview API: the
 * graph it draws from a `graph` message, the edits it sends back, and that it works from the keyboard.
 */

import * as assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { FromFlowEditor, ToFlowEditor } from "../../extension/src/editorMessages";
import type { GraphNode } from "../../extension/src/protocol";
import { launchChromium } from "./codeServer";
import { openWebviewPage, sentBy } from "./webviewPage";

let browser: Browser;
let page: Page;

const span = { start_line: 0, start_col: 0, end_line: 0, end_col: 0 };

function node(name: string, extra: Partial<GraphNode>): GraphNode {
  return { name, type: "python", aggregation: false, use_variants: false, source: `${name}.py`, activate: null,
    inputs: {}, parameters: [], span, name_span: span, ...extra };
}

const message: ToFlowEditor = {
  type: "graph",
  name: "hello",
  running: false,
  graph: {
    version: 4,
    inputs: [{ name: "name", type: "string", default: "World", description: "Who to greet.", is_chat_history: false,
      span }],
    outputs: [{ name: "greeting", reference: "${shout.output}", span }],
    nodes: [
      node("greet", { type: "prompt", source: "greet.jinja2", inputs: { name: "${inputs.name}" },
        parameters: [{ name: "name", annotation: null, default: null, required: true }] }),
      node("shout", { inputs: { text: "${greet.output}", note: "<b>loud</b>" }, parameters: [
        { name: "text", annotation: "str", default: null, required: true },
        { name: "times", annotation: "int", default: "1", required: false }] }),
    ],
    edges: [
      { source: "inputs.name", target: "greet", port: "name" },
      { source: "greet", target: "shout", port: "text" },
      { source: "shout", target: "outputs.greeting", port: "reference" },
    ],
  },
  runs: { greet: { status: "Completed", durationMs: 3 }, shout: { status: "Failed", durationMs: 1,
    error: "ValueError: too quiet" } },
  problems: { shout: [{ severity: "warning", message: "Input 'note' is not a parameter of the tool." }] },
};

before(async () => {
  browser = await launchChromium();
  page = await openWebviewPage(browser, "flowEditor");
  await send(message);
});

after(async () => {
  await browser?.close();
});

async function send(next: ToFlowEditor): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, "*"), next);
}

async function sent(): Promise<FromFlowEditor[]> {
  return sentBy<FromFlowEditor>(page);
}

function box(id: string) {
  return page.locator(`.box[data-id="${id}"]`);
}

test("the page asks for the graph, then draws inputs, nodes and outputs left to right with run status", async () => {
  assert.deepEqual((await sent())[0], { type: "ready" });
  await box("shout").waitFor();
  const xs = await Promise.all(["inputs.name", "greet", "shout", "outputs.greeting"]
    .map(async (id) => (await box(id).boundingBox())?.x ?? -1));
  assert.deepEqual([...xs].sort((a, b) => a - b), xs);
  assert.match(await box("greet").getAttribute("class") ?? "", /status-Completed/);
  assert.match(await box("shout").getAttribute("class") ?? "", /status-Failed.*problem-warning/);
  assert.equal(await page.locator("path.line").count(), 3);
});

test("selecting a node shows its inputs (with the tool's parameters) and its last run", async () => {
  await box("shout").click();
  assert.equal(await page.locator("#input-text").inputValue(), "${greet.output}");
  assert.equal(await page.locator("#input-times").inputValue(), "");
  assert.equal(await page.locator("#input-times").getAttribute("placeholder"), "default 1");
  assert.equal(await page.locator("#input-note").inputValue(), "<b>loud</b>");  // user data stays text
  assert.equal(await page.locator(".inspector b").count(), 0);
  assert.match(await page.locator(".last-run").textContent() ?? "", /Failed.*ValueError: too quiet/);
  assert.deepEqual(await page.locator("#choices-shout option").evaluateAll((all) =>
    all.map((o) => (o as HTMLOptionElement).value)), ["${inputs.name}", "${greet.output}"]);
});

test("editing an input sends setInput with a typed value; emptying it sends clearInput", async () => {
  await page.locator("#input-times").fill("3");
  await page.locator("#input-times").press("Enter");
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 4,
    edit: { kind: "setInput", node: "shout", input: "times", value: 3 } });
  await page.locator("#input-note").fill("");
  await page.locator("#input-note").press("Enter");
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 4,
    edit: { kind: "clearInput", node: "shout", input: "note" } });
});

test("rename and add node check the name before sending", async () => {
  const before = (await sent()).length;
  await page.locator(".rename").fill("greet");
  await page.locator(".rename").press("Enter");
  assert.match(await page.locator(".status").textContent() ?? "", /already exists/);
  assert.equal((await sent()).length, before);
  await page.locator(".rename").fill("yell");
  await page.locator(".rename").press("Enter");
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 4,
    edit: { kind: "renameNode", name: "shout", newName: "yell" } });
  await page.locator("input[name='node-name']").fill("tidy");
  await page.locator("select[name='node-type']").selectOption("llm");
  await page.locator("input[name='node-name']").press("Enter");
  // tests/server/test_edits.py (ADD_LLM) runs this very edit through the server: the node comes out complete.
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 4, edit: { kind: "addNode", name: "tidy", type: "llm" } });
});

test("a new graph keeps what the user is typing", async () => {
  await box("greet").click();
  await page.locator("#input-name").fill("${inputs.na");
  await send({ ...message, runs: {} });
  await page.locator(".box[data-id='greet']:not(.status-Completed)").waitFor();
  assert.equal(await page.locator("#input-name").inputValue(), "${inputs.na");
});

test("the keyboard moves between boxes, Delete asks to remove a node, buttons run, debug and reveal", async () => {
  await box("greet").focus();
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.id), "shout");
  assert.equal(await box("shout").getAttribute("aria-pressed"), "true");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.id), "inputs.name");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("Delete");
  assert.deepEqual((await sent()).at(-1), { type: "remove", node: "greet", version: 4 });
  await page.locator("[data-action='run-node']").click();
  assert.deepEqual((await sent()).at(-1), { type: "runNode", node: "greet" });
  await page.locator("[data-action='run-flow']").click();
  assert.deepEqual((await sent()).at(-1), { type: "runFlow" });
  await page.locator("[data-action='debug-node']").click();
  assert.deepEqual((await sent()).at(-1), { type: "debugNode", node: "greet" });
  await page.locator("[data-action='debug-flow']").click();
  assert.deepEqual((await sent()).at(-1), { type: "debugFlow" });
  await box("shout").dblclick();
  assert.deepEqual((await sent()).at(-1), { type: "reveal", id: "shout" });
});

/** A flow with two LLM nodes: `ask` set up as "Add node" writes it, `draft` naming a connection that is gone. */
const llmMessage: ToFlowEditor = {
  ...message,
  runs: {},
  problems: {},
  graph: {
    version: 5,
    inputs: message.graph.inputs,
    outputs: [],
    nodes: [
      node("ask", { type: "llm", source: "ask.jinja2", connection: "local", api: "chat",
        inputs: { deployment_name: "smollm2", temperature: 0.7, question: "${inputs.name}" },
        parameters: [{ name: "question", annotation: null, default: null, required: true }] }),
      node("draft", { type: "llm", source: "draft.jinja2", connection: "gone", api: "chat", inputs: {} }),
    ],
    edges: [{ source: "inputs.name", target: "ask", port: "question" }],
    connections: ["azure", "local"],
    llm_parameters: [
      { name: "deployment_name", type: "string", description: "The model to call.", completion_only: false },
      { name: "model", type: "string", description: "The model's name.", completion_only: false },
      { name: "temperature", type: "double", description: "Sampling temperature.", completion_only: false },
      { name: "max_tokens", type: "int", description: "The most tokens.", completion_only: false },
      { name: "stop", type: "list", description: "Stop strings.", completion_only: false },
      { name: "suffix", type: "string", description: "Completion only.", completion_only: true },
    ],
  },
};

async function options(selector: string): Promise<string[]> {
  return page.locator(`${selector} option`).evaluateAll((all) => all.map((o) => o.textContent ?? ""));
}

test("an LLM node's inspector picks its connection among the stored ones and its API", async () => {
  await send(llmMessage);
  await box("ask").click();
  assert.deepEqual(await options("#llm-connection"), ["azure", "local"]);
  assert.equal(await page.locator("#llm-connection").inputValue(), "local");
  assert.equal(await page.locator("#llm-connection").getAttribute("aria-invalid"), null);
  await page.locator("#llm-connection").selectOption("azure");
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 5,
    edit: { kind: "setNodeField", node: "ask", field: "connection", value: "azure" } });
  assert.deepEqual(await options("#llm-api"), ["chat", "completion"]);
  await page.locator("#llm-api").selectOption("completion");
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 5,
    edit: { kind: "setNodeField", node: "ask", field: "api", value: "completion" } });
});

test("an LLM node's model and parameters are edited with typed values; absent parameters are added", async () => {
  await box("ask").click();
  assert.equal(await page.locator("#input-deployment_name").inputValue(), "smollm2");
  assert.equal(await page.locator("label[for='input-temperature']").getAttribute("title"), "Sampling temperature.");
  // the template's variable stays among the inputs; the model settings are not repeated there
  assert.deepEqual(await page.locator(".inspector input.value").evaluateAll((all) => all.map((e) => e.id)),
    ["input-deployment_name", "input-temperature", "input-question"]);
  await page.locator("#input-deployment_name").fill("2024");
  await page.locator("#input-deployment_name").press("Enter");
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 5,
    edit: { kind: "setInput", node: "ask", input: "deployment_name", value: "2024" } });  // a name stays a string
  await page.locator("#input-temperature").fill("0.2");
  await page.locator("#input-temperature").press("Enter");
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 5,
    edit: { kind: "setInput", node: "ask", input: "temperature", value: 0.2 } });
  await page.locator("button[aria-label=\"Remove the input 'temperature'\"]").click();
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 5,
    edit: { kind: "clearInput", node: "ask", input: "temperature" } });
  // chat API: no completion-only parameter, no second model input
  assert.deepEqual(await options("select[name='add-parameter']"), ["+ parameter", "max_tokens", "stop"]);
  await page.locator("select[name='add-parameter']").selectOption("max_tokens");
  assert.equal(await page.locator("input[name='parameter-value']").getAttribute("placeholder"), "a whole number");
  await page.locator("input[name='parameter-value']").fill("512");
  await page.locator("input[name='parameter-value']").press("Enter");
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 5,
    edit: { kind: "setInput", node: "ask", input: "max_tokens", value: 512 } });
});

test("a connection that is not stored is flagged; with none stored the inspector says how to create one", async () => {
  await box("draft").click();
  assert.deepEqual(await options("#llm-connection"), ["gone (not stored)", "azure", "local"]);
  assert.equal(await page.locator("#llm-connection").getAttribute("aria-invalid"), "true");
  assert.match(await page.locator("#llm-connection-hint").textContent() ?? "", /'gone' is not a stored connection/);
  assert.match(await page.locator("label[for='input-deployment_name']").textContent() ?? "", /required/);
  await send({ ...llmMessage, graph: { ...llmMessage.graph, version: 6, connections: [] } });
  await page.locator("#llm-connection-hint", { hasText: "No connection stored yet" }).waitFor();
  assert.match(await page.locator("#llm-connection-hint").textContent() ?? "",
    /No connection stored yet — create one with 'Flowline: Create Connection\.\.\.'/);
  await page.locator("[data-action='create-connection']").click();
  assert.deepEqual((await sent()).at(-1), { type: "createConnection" });
});

test("the add-node menu offers the installed package tools in a group of their own and adds the chosen one", async () => {
  // The toolbar is not redrawn under a user typing in it; an earlier test left the focus there.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await send({ ...message, graph: { ...message.graph, version: 6, package_tools: [
    { id: "acme_tools.search.Search.run", name: "Search", type: "python", description: "Searches the web." }] } });
  const select = page.locator("select[name='node-type']");
  await select.locator("optgroup[label='Package tools'] option[value='package:acme_tools.search.Search.run']")
    .waitFor({ state: "attached" });
  assert.deepEqual(await select.locator("optgroup").evaluateAll((groups) => groups.map((g) =>
    [g.getAttribute("label"), Array.from(g.querySelectorAll("option"), (o) => o.textContent)])), [
    ["Code", ["python", "llm", "prompt"]], ["Package tools", ["Search (acme_tools.search.Search.run)"]]]);
  await page.locator("input[name='node-name']").fill("find");
  await select.selectOption("package:acme_tools.search.Search.run");
  await page.locator("input[name='node-name']").press("Enter");
  // tests/server/test_edits.py runs this edit through the server: a package node with the tool's defaults.
  assert.deepEqual((await sent()).at(-1), { type: "edit", version: 6,
    edit: { kind: "addNode", name: "find", type: "python", tool: "acme_tools.search.Search.run" } });
});

test("a chat flow's toolbar has a Chat button that opens its chat panel; other flows' has none", async () => {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const refused = { input: null, history: null, output: null, stream_node: null, accepts_images: false,
    refusal: "the flow has no input marked 'is_chat_input: true' (the message each turn sends)" };
  await send({ ...message, graph: { ...message.graph, version: 7, chat: refused } });
  await page.locator("[data-action='run-flow']").waitFor();
  assert.equal(await page.locator("[data-action='open-chat']").count(), 0);
  await send({ ...message, graph: { ...message.graph, version: 8, chat: { input: "name", history: "chat_history",
    output: "greeting", stream_node: null, accepts_images: false, refusal: null } } });
  await page.locator("[data-action='open-chat']").click();
  assert.deepEqual((await sent()).at(-1), { type: "openChat" });
});
