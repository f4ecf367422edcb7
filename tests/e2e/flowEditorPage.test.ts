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
