/**
 * The run panel's page on its own, in Chromium with a stand-in for VS Code's webview API: what it
 * draws from a state message, what it sends back, and that it works from the keyboard.
 */

import * as assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { FromWebview, ToWebview } from "../../extension/src/messages";
import { join } from "node:path";
import { launchChromium, SCREENSHOTS } from "./codeServer";
import { openWebviewPage, sentBy } from "./webviewPage";

let browser: Browser;
let page: Page;

const state: ToWebview = {
  type: "state",
  selected: "file:///w/hello/flow.dag.yaml",
  running: [],
  flows: [{ uri: "file:///w/hello/flow.dag.yaml", name: "hello", values: { name: "Ada" }, fields: [
    { name: "name", type: "string", default: "World", description: "Who to greet." },
    { name: "excited", type: "bool", default: false, description: null },
  ] }],
  runs: [{
    runId: "r1", flow: "/w/hello/flow.dag.yaml", status: "Failed", durationMs: 12, nodes: [
      { name: "greet", status: "Completed", durationMs: 0.7, logs: [{ stream: "stdout", message: "hi <b>" }],
        streamed: "", output: "Hello <script>alert(1)</script>" },
      { name: "skip", status: "Bypassed", logs: [], streamed: "" },
      { name: "shout", status: "Failed", logs: [], streamed: "",
        error: { type: "ValueError", message: "bad", file: "/w/hello/shout.py", line: 7 } },
    ],
  }],
  batches: [{ name: "b1", flow: "/w/hello", status: "Completed", lines_total: 3, lines_completed: 3, lines_failed: 0,
    metrics: { accuracy: 0.75 } }],
  nodeForm: null,
  imageRoot: "https://images.test/",
  focus: null,
};

before(async () => {
  browser = await launchChromium();
  page = await openWebviewPage(browser, "runPanel");
  await page.evaluate((message) => window.postMessage(message, "*"), state);
});

after(async () => {
  await browser?.close();
});

async function sent(): Promise<FromWebview[]> {
  return sentBy<FromWebview>(page);
}

test("the page asks for its state, then draws the run tree from it", async () => {
  assert.deepEqual((await sent())[0], { type: "ready" });
  const nodes = page.locator("details.run[data-run='r1'] details.node");
  assert.deepEqual(await nodes.evaluateAll((all) => all.map((n) => (n as HTMLElement).dataset.node)),
    ["greet", "skip", "shout"]);
  assert.equal(await page.locator("details.node[data-node='shout']").getAttribute("open"), "");  // failed: open
  assert.equal(await page.locator(".batch[data-batch='b1'] .metrics").textContent(), "accuracy 0.75");
});

test("user data is shown as text, never as markup", async () => {
  await page.locator("details.node[data-node='greet'] > summary").click();
  await page.locator("pre", { hasText: "Hello <script>alert(1)</script>" }).waitFor();
  assert.equal(await page.locator("#app script").count(), 0);
});

test("the error's file:line asks the extension to open it", async () => {
  await page.locator("a.location", { hasText: "/w/hello/shout.py:7" }).click();
  assert.deepEqual((await sent()).at(-1), { type: "open", file: "/w/hello/shout.py", line: 7 });
});

test("the form sends the typed values; Re-run and Report send theirs", async () => {
  assert.equal(await page.locator("#input-name").inputValue(), "Ada");  // the remembered value
  await page.locator("#input-name").fill("Bob");
  await page.locator("#run-flow").click();
  assert.deepEqual((await sent()).at(-1), { type: "run", uri: "file:///w/hello/flow.dag.yaml",
    values: { name: "Bob", excited: "false" } });
  await page.locator("details.run[data-run='r1'] button.rerun").click();
  assert.deepEqual((await sent()).at(-1), { type: "rerun", runId: "r1" });
  await page.locator("details.batches > summary").click();
  await page.locator(".batch[data-batch='b1'] button.report").click();
  assert.deepEqual((await sent()).at(-1), { type: "report", names: ["b1"] });
});

test("everything works from the keyboard: Tab reaches a node, Enter opens it", async () => {
  const skip = page.locator("details.node[data-node='skip']");
  assert.equal(await skip.getAttribute("open"), null);
  await page.locator("details.node[data-node='greet'] > summary").focus();
  await page.keyboard.press("Tab");
  while (!(await page.evaluate(() => document.activeElement?.parentElement?.getAttribute("data-node") === "skip"))) {
    await page.keyboard.press("Tab");  // past the greet node's own sections
  }
  await page.keyboard.press("Enter");
  assert.equal(await skip.getAttribute("open"), "");
});

test("a new state keeps what the user typed and what they opened", async () => {
  await page.locator("#input-name").fill("Cy");
  await page.evaluate((message) => window.postMessage(message, "*"), state);
  assert.equal(await page.locator("#input-name").inputValue(), "Cy");
  assert.equal(await page.locator("details.node[data-node='skip']").getAttribute("open"), "");
});

test("a run that did not start shows why; a refused run lists its errors, each opening its place", async () => {
  await page.evaluate((message) => window.postMessage(message, "*"), { ...state, runs: [
    { runId: "m1", flow: "/w/missing-package/flow.dag.yaml", status: "Failed", nodes: [],
      error: { type: "ModuleNotFoundError", message: "Node 'words' could not load its tool: ModuleNotFoundError: "
        + "No module named 'flowline_demo_missing_package'" } },
    { runId: "i1", flow: "/w/hello/flow.dag.yaml", node: "shout", status: "Failed", nodes: [],
      error: { type: "InvalidFlow", message: "Node 'shout' cannot run: it and the nodes it depends on have 1 error(s)",
        problems: [{ file: "/w/hello/flow.dag.yaml", line: 14, column: 15, message: "Unknown connection 'x'." }] } },
  ] });
  const missing = page.locator("details.run[data-run='m1']");
  await missing.locator(":scope > summary .icon.status-Failed").waitFor();
  assert.match(await missing.locator(".error").textContent() ?? "", /No module named 'flowline_demo_missing_package'/);
  const refused = page.locator("details.run[data-run='i1']");
  assert.equal(await refused.locator(".problem").textContent(), "/w/hello/flow.dag.yaml:14:15: Unknown connection 'x'.");
  await refused.locator(":scope > summary").click();  // only the newest run starts open
  await refused.locator(".problem a.location").click();
  assert.deepEqual((await sent()).at(-1), { type: "open", file: "/w/hello/flow.dag.yaml", line: 14 });
});

test("a node that lacks values gets a form: Run node sends what was typed, Cancel closes it", async () => {
  const nodeForm = { uri: "file:///w/web/flow.dag.yaml", node: "classify", title: "web · node classify",
    values: { "summarize.output": "remembered" }, fields: [
      { input: "text", reference: "${summarize.output}", key: "summarize.output", kind: "node" as const, type: null },
      { input: "url", reference: "${inputs.url}", key: "inputs.url", kind: "input" as const, type: "string" }] };
  await page.evaluate((message) => window.postMessage(message, "*"), { ...state, nodeForm });
  const form = page.locator("form.node-form[data-node='classify']");
  await form.waitFor();
  assert.equal(await form.locator("h2").textContent(), "Run web · node classify");
  assert.equal(await page.locator("[data-key='summarize.output']").inputValue(), "remembered");
  await page.locator("[data-key='inputs.url']").fill("https://example.org");
  await page.evaluate((message) => window.postMessage(message, "*"), { ...state, nodeForm });  // a new state...
  assert.equal(await page.locator("[data-key='inputs.url']").inputValue(), "https://example.org");  // ...keeps it
  await form.locator("#run-node").click();
  assert.deepEqual((await sent()).at(-1), { type: "runNode", uri: "file:///w/web/flow.dag.yaml", node: "classify",
    values: { "summarize.output": "remembered", "inputs.url": "https://example.org" } });
  await form.locator("button.dismiss").click();
  assert.deepEqual((await sent()).at(-1), { type: "closeNodeForm" });
  await page.evaluate((message) => window.postMessage(message, "*"), state);
  await form.waitFor({ state: "detached" });
});

test("a value clipped to 64 KiB says so, and a run's every state with it is drawn at once", async (t) => {
  const where = "run `flowline flow test --events FILE` for the whole value]";
  const clip = (text: string, left: string): string => {  // as server/flowline/engine/clip.py cuts a long string
    const marker = `… [${left} more characters; ${where}`;
    return text.slice(0, 65536 - marker.length) + marker;
  };
  const output = clip("hello".repeat(20000), "4,934,628");
  const big: ToWebview = { ...state, runs: [{ runId: "big", flow: "/w/big/flow.dag.yaml", status: "Completed",
    durationMs: 500, outputs: { out: output }, nodes: [{ name: "t", status: "Completed", durationMs: 480, streamed: "",
      logs: [{ stream: "stdout", message: clip("y".repeat(70000), "4,934,628") }, { stream: "stdout", message: "done" }],
      output }] }, ...state.runs] };
  await page.evaluate((message) => window.postMessage(message, "*"), big);
  await page.locator("details.node[data-node='t'] > summary").click();  // open, as a user looking at it would
  const ms = await page.evaluate(async (message) => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      window.postMessage(message, "*");  // a run's events each bring the whole state
    }
    await new Promise<void>((resolve) => {  // messages arrive in order: this one comes after the 20 states
      window.addEventListener("message", (event) => event.data === "drawn" && resolve());
      window.postMessage("drawn", "*");
    });
    document.body.getBoundingClientRect();  // and laid out
    return performance.now() - started;
  }, big);
  t.diagnostic(`20 states with a 64 KiB output and log drawn in ${ms.toFixed(0)} ms`);
  assert.ok(ms < 2000, `${ms} ms`);
  const node = page.locator("details.node[data-node='t']");
  assert.deepEqual(await node.locator("details.section > summary").allTextContents(), ["Output · clipped",
    "Logs · clipped"]);
  assert.equal(await page.locator("details.run[data-run='big'] > details.section > summary").textContent(),
    "Outputs · clipped");
  assert.ok((await node.locator("pre.json").first().textContent())?.endsWith(`… [4,934,628 more characters; ${where}`));
  assert.equal(await page.locator("details.run[data-run='r1'] details.section > summary", { hasText: "clipped" }).count(), 0);
});

test("an image output is shown as a picture of its file", async () => {
  // A 2x2 red PNG, served where the page's image root (the webview's resource address) points.
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==",
    "base64");
  const asked: string[] = [];
  await page.route("https://images.test/**", (route) => {
    asked.push(route.request().url());
    return route.fulfill({ status: 200, contentType: "image/png", body: png });
  });
  const picture = { "data:image/png;path": "/w/pics/.promptflow/output/f675cd548cfa86fd.png" };
  const withImage: ToWebview = { ...state, runs: [{ runId: "r2", flow: "/w/pics/flow.dag.yaml", status: "Completed",
    durationMs: 5, outputs: { picture, caption: "red" },
    nodes: [{ name: "draw", status: "Completed", durationMs: 1, logs: [], streamed: "", output: picture }] }] };
  await page.evaluate((message) => window.postMessage(message, "*"), withImage);
  await page.evaluate(() => document.querySelectorAll("details").forEach((details) => { details.open = true; }));
  const image = page.locator("details.node[data-node='draw'] .pictures img").first();
  await image.waitFor();
  assert.equal(await image.getAttribute("src"), "https://images.test/w/pics/.promptflow/output/f675cd548cfa86fd.png");
  await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>(".pictures img"))
    .some((img) => img.complete && img.naturalWidth === 2));
  assert.ok(asked.length >= 1);
  await page.screenshot({ path: join(SCREENSHOTS, "run-panel-image.png") });
});

test("a run to show (a chat turn's trace) opens with its nodes, scrolled into view, and stays open", async () => {
  const turn = { runId: "turn2", flow: "/w/chat/flow.dag.yaml", status: "Completed" as const, durationMs: 900,
    outputs: { answer: "Paris, still." }, nodes: [{ name: "chat", status: "Completed" as const, durationMs: 880,
      logs: [], streamed: "", inputs: { question: "And now?", chat_history: [{ inputs: { question: "Capital?" },
        outputs: { answer: "Paris." } }] }, prompt: [{ role: "user", content: "Capital?" },
        { role: "assistant", content: "Paris." }, { role: "user", content: "And now?" }], output: "Paris, still." }] };
  const filler = Array.from({ length: 40 }, (_, i) => ({ runId: `f${i}`, flow: "/w/hello/flow.dag.yaml",
    status: "Completed" as const, durationMs: 3, nodes: [] }));
  const runs = [...filler, turn];  // newest first: the turn is far down, closed by default
  await page.evaluate((message) => window.postMessage(message, "*"), { ...state, runs, focus: null });
  const shown = page.locator("details.run[data-run='turn2']");
  await shown.waitFor({ state: "attached" });
  assert.equal(await shown.getAttribute("open"), null);
  await page.evaluate((message) => window.postMessage(message, "*"), { ...state, runs, focus: "turn2" });
  await page.waitForFunction(() => document.querySelector("details.run[data-run='turn2']")?.hasAttribute("open"));
  const node = shown.locator("details.node[data-node='chat']");
  assert.equal(await node.getAttribute("open"), "");
  await node.locator(".messages", { hasText: "Capital?" }).waitFor();  // the prompt sent: the first turn is in it
  assert.match(await node.locator("pre.json").first().textContent() ?? "", /"chat_history"[\s\S]*"Paris\."/);
  const [top, height, scrolled] = await shown.evaluate((d) => [d.getBoundingClientRect().top, window.innerHeight,
    window.scrollY]);
  assert.ok(scrolled > 0 && top >= 0 && top < height, `the run is at ${top}px of ${height}px`);
  assert.equal(await page.evaluate(() => document.activeElement?.parentElement?.getAttribute("data-run")), "turn2");
  await page.evaluate((message) => window.postMessage(message, "*"), { ...state, runs, focus: null });
  assert.equal(await shown.getAttribute("open"), "");  // later states keep it open
  await page.screenshot({ path: join(SCREENSHOTS, "run-panel-focus.png") });
});
