/**
 * The extension in real VS Code (code-server in headless Chromium), as a person uses it on the
 * samples. Steps share one VS Code and run in order; each saves a screenshot in screenshots/.
 */

import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Locator } from "playwright-core";
import { ROOT, SCREENSHOTS, type Session, startSession } from "./codeServer";
import { Workbench } from "./workbench";

let session: Session;
let bench: Workbench;
const timings: Record<string, number> = {};

before(async () => {
  session = await startSession();
  bench = new Workbench(session.page);
  await bench.load(session.url);
});

/** A file's text once it contains `part` (VS Code writes it a moment after the save command returns). */
async function fileOnceItHas(path: string, part: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(path) ? readFileSync(path, "utf-8") : "";
    if (text.includes(part) || Date.now() > deadline) {
      return text;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The 1-based number of the first line of a workspace file that `matches`. */
function lineOf(relative: string, matches: (text: string) => boolean): number {
  return readFileSync(join(session.workspace, relative), "utf-8").split("\n").findIndex(matches) + 1;
}

/** Clicks the open flow's "Run flow" code lens; the run panel's newest run whose title has `name`. */
async function runFlowByLens(name: string): Promise<Locator> {
  await bench.codeLens("Run flow").waitFor({ timeout: 30_000 });
  await bench.codeLens("Run flow").click();
  return bench.runPanel().locator("details.run", { hasText: name }).first();
}

/**
 * Puts a sample back as it was without a UI command that could be missed: every editor closes (what
 * is unsaved is thrown away), the original bytes go to disk, and the file opens again until VS Code
 * shows the original (`shown`) with nothing of the change (`gone`) and no unsaved mark. In that
 * order: bytes written while an editor is unsaved would not be read again when it is closed.
 */
async function restoreSample(relative: string, original: string, shown: string, gone: string): Promise<void> {
  await bench.closeAllEditors();
  writeFileSync(join(session.workspace, relative), original);
  await bench.open(relative);
  await bench.goTo(original.split("\n").findIndex((text) => text.includes(shown)) + 1);  // into view
  await bench.editorShows(shown, gone);
  await bench.dirtyTab().waitFor({ state: "detached" });
}

/**
 * Waits until no two nodes of the visual editor overlap (a node just added has its place once its layout
 * has run); fails with every node's box when they still do.
 */
async function nodesApart(editor: ReturnType<Workbench["flowEditor"]>): Promise<void> {
  const boxes = () => editor.locator(".react-flow__node").evaluateAll((all) => all.map((n) => {
    const r = n.getBoundingClientRect();
    return { id: (n as HTMLElement).dataset.id ?? "", left: r.left, top: r.top, right: r.right, bottom: r.bottom };
  }));
  type Box = Awaited<ReturnType<typeof boxes>>[number];
  const overlap = (a: Box, b: Box) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  let last: Box[] = [];
  for (let attempt = 0; attempt < 50; attempt += 1) {
    last = await boxes();
    if (!last.some((a, i) => last.some((b, j) => i < j && overlap(a, b)))) {
      return;
    }
    await editor.locator(".react-flow__node").first().waitFor();  // polled again: the layout may still be running
  }
  assert.fail(`nodes overlap: ${JSON.stringify(last)}`);
}

/** A sample's text as the workspace has it before a step changes it. */
function sample(relative: string): string {
  return readFileSync(join(session.workspace, relative), "utf-8");
}

/** A test whose failure leaves a screenshot of the moment, named after it. */
function step(name: string, body: () => Promise<void>): void {
  test(name, async () => {
    try {
      await body();
    } catch (error) {
      await bench?.showNotifications().catch(() => undefined);
      await bench?.shot(`failed-${name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}`).catch(() => undefined);
      await bench?.page.keyboard.press("Escape").catch(() => undefined);
      throw error;
    }
  });
}

after(async () => {
  writeFileSync(join(SCREENSHOTS, "timings.json"), JSON.stringify(timings, null, 2) + "\n");
  await session?.close();
});

step("opening a flow starts the server: code lenses appear", async () => {
  await bench.open("hello/flow.dag.yaml");
  await bench.codeLens("Run flow").waitFor({ timeout: 60_000 });
  await bench.codeLens("Run node").first().waitFor();
  await bench.shot("01-hello-open");
});

// The run steps come before any edit: an edit makes VS Code replace the code lenses a moment later,
// and a click in that moment would hit a lens that is already gone.
step("Run node: the node completes and its output shows in the run panel", async () => {
  await bench.top();
  await bench.codeLens("Run node").first().click();
  const panel = bench.runPanel();
  const run = panel.locator("details.run", { hasText: "node greet" }).first();
  await run.locator("summary .icon.status-Completed").first().waitFor({ timeout: 30_000 });
  const node = run.locator("details.node[data-node='greet']");
  await node.locator(":scope > summary").click();
  await node.locator("pre", { hasText: "Hello, World!" }).first().waitFor();
  await bench.shot("05-run-node");
});

step("Run flow: every node's status shows, and the result stands next to each node", async () => {
  await bench.top();
  const run = await runFlowByLens("hello");
  await run.locator(":scope > summary .icon.status-Completed").waitFor({ timeout: 30_000 });
  for (const name of ["greet", "shout"]) {
    await run.locator(`details.node[data-node='${name}'] .icon.status-Completed`).waitFor();
  }
  await run.locator("pre", { hasText: "\"greeting\": \"Hello, World!\"" }).first().waitFor();
  await bench.shot("06-run-flow");
});

step("the visual editor: the graph with run statuses; an input set there and a node added land in the text", async () => {
  const flow = join(session.workspace, "hello", "flow.dag.yaml");
  const tool = join(session.workspace, "hello", "tidy.py");
  const original = sample("hello/flow.dag.yaml");
  await bench.top();
  await bench.codeLens("Open visual editor").click();
  const editor = bench.flowEditor();
  try {
    await editor.locator(".box[data-id='shout'].status-Completed").waitFor({ timeout: 30_000 });
    await editor.locator(".box[data-id='inputs.name']").waitFor();
    await editor.locator(".box[data-id='outputs.greeting']").waitFor();
    await editor.locator(".box[data-id='shout'] .name").click();
    await editor.locator("#input-excited").fill("true");
    await editor.locator("#input-excited").press("Enter");
    await editor.locator("#input-excited[data-original='true']").waitFor();
    await bench.shot("06b-visual-editor");
    await editor.locator("input[name='node-name']").fill("tidy");
    await editor.locator("input[name='node-name']").press("Enter");
    await editor.locator(".box[data-id='tidy']").waitFor({ timeout: 10_000 });
    await nodesApart(editor);
    // The new node is centred; in this narrow column shout now lies under the inspector: fit it into view.
    const viewport = editor.locator(".react-flow__viewport");
    const centred = await viewport.evaluate((element) => (element as HTMLElement).style.transform);
    await editor.locator("[data-action='fit']").click();
    await viewport.and(editor.locator(`.react-flow__viewport:not([style*="${centred}"])`)).waitFor();
    await editor.locator(".box[data-id='shout'] .name").click();  // selects it (and shows it beside, keeping the focus)
    await editor.locator("[data-action='show-in-text']").click();  // shows the node in the flow's text editor
    await bench.cursorStatus().filter({ hasText: "Ln 24," }).waitFor({ timeout: 10_000 });
    await bench.editor().click({ position: { x: 400, y: 10 } });  // the keyboard back to the workbench
    await bench.command("File: Save");  // the edits are unsaved text edits, like any other
    const text = await fileOnceItHas(flow, "- name: tidy");
    assert.match(text, /excited: true/);
    assert.match(text, /- name: tidy\n  type: python\n/);
    assert.match(await fileOnceItHas(tool, "@tool"), /def tidy\(text: str = ""\) -> str:/);  // created and saved
  } catch (error) {
    await bench.shot("failed-visual-editor-before-restore");  // the moment itself: the restore below changes it
    throw error;
  } finally {
    rmSync(tool, { force: true });
    await restoreSample("hello/flow.dag.yaml", original, "excited: ${inputs.excited}", "name: tidy");
  }
});

step("typing a broken reference shows a squiggle and a Problems row", async () => {
  const original = sample("hello/flow.dag.yaml");
  await bench.open("hello/flow.dag.yaml");
  await bench.goTo(23, 24);  // inside `${inputs.name}` of node greet, after "name"
  try {
    await bench.page.keyboard.press("Backspace");
    await bench.page.keyboard.press("Backspace");
    await bench.type("em");  // ${inputs.naem}
    await bench.squiggles().first().waitFor({ timeout: 10_000 });
    const rows = await bench.problems();
    await rows.filter({ hasText: "unknown flow input 'naem'" }).first().waitFor({ timeout: 10_000 });
    await bench.shot("02-broken-reference");
  } finally {
    await restoreSample("hello/flow.dag.yaml", original, "name: ${inputs.name}", "naem");
  }
  await bench.squiggles().first().waitFor({ state: "detached", timeout: 10_000 });
});

step("typing ${ offers the flow inputs and the nodes that can be referenced", async () => {
  const original = sample("hello/flow.dag.yaml");
  await bench.open("hello/flow.dag.yaml");
  await bench.goTo(30, 1);  // the line `    text: ${greet.output}` of node shout
  try {
    await bench.page.keyboard.press("End");
    await bench.type("\nextra: ${");
    const items = bench.suggestions();
    await items.first().waitFor({ timeout: 10_000 });
    const labels = await items.locator(".label-name").allInnerTexts();
    assert.deepEqual(labels.map((l) => l.trim()).sort(), ["greet", "inputs"]);
    await bench.shot("03-completion");
  } finally {
    await bench.page.keyboard.press("Escape");
    await restoreSample("hello/flow.dag.yaml", original, "text: ${greet.output}", "extra:");
  }
});

step("hovering a reference shows its target", async () => {
  await bench.open("hello/flow.dag.yaml");
  await bench.goTo(30, 15);  // on `greet` in ${greet.output}
  await bench.showHover();
  await bench.hover().filter({ hasText: "greet" }).first().waitFor({ timeout: 10_000 });
  const text = await bench.hover().first().innerText();
  assert.match(text, /prompt node/);
  await bench.shot("04-hover");
  await bench.page.keyboard.press("Escape");
});

step("a failing tool: the error opens the tool at the failing line", async () => {
  await bench.open("failing-tool/flow.dag.yaml");
  const run = await runFlowByLens("failing-tool");
  await run.locator(":scope > summary .icon.status-Failed").waitFor({ timeout: 30_000 });
  const link = run.locator("a.location", { hasText: "parse_amount.py:8" }).first();
  await link.waitFor();
  await bench.shot("07-failing-tool");
  await link.click();
  await bench.activeTab().filter({ hasText: "parse_amount.py" }).waitFor({ timeout: 10_000 });
  await bench.cursorStatus().filter({ hasText: "Ln 8," }).waitFor({ timeout: 10_000 });
  await bench.shot("08-failing-line");
});

step("Serve Flow: the endpoint's test page answers in the Simple Browser; Stop Serving ends it", async () => {
  await bench.closeAllEditors();
  await bench.open("hello/flow.dag.yaml");
  await bench.top();  // VS Code reopens the file where an earlier step left it, below the "Run flow" lens
  await bench.codeLens("Run flow").waitFor({ timeout: 60_000 });  // the extension has found its interpreter
  await bench.command("Flowline: Serve Flow");
  const announced = bench.toast(/serving 'hello' at http:\/\/127\.0\.0\.1:\d+/);
  await announced.waitFor({ timeout: 60_000 });
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(await announced.innerText())?.[0] ?? "";
  await bench.terminal("Flowline: serve hello").first().waitFor();
  try {
    const page = bench.simpleBrowser();
    await page.locator("#input-name").fill("Serving");
    await page.locator("button[type='submit']").click();
    await page.locator("#result pre", { hasText: "Hello, Serving!" }).waitFor({ timeout: 30_000 });
    await bench.shot("18-serve-flow");
  } finally {
    // The keyboard back to the workbench: the Simple Browser's page keeps the palette's shortcut to itself.
    await bench.tab("flow.dag.yaml").first().click();
    await bench.editor().click({ position: { x: 400, y: 10 } });
    await bench.command("Flowline: Stop Serving");
    await bench.terminal("Flowline: serve hello").first().waitFor({ state: "detached", timeout: 30_000 });
  }
  // Stopped means no longer listening: the port refuses the connection.
  await assert.rejects(fetch(`${url}/health`));
  await bench.closeAllEditors();
  await bench.command("Notifications: Clear All Notifications");
});

/** `flowline <args>` with the session's Flowline home (its connection store); what it prints. */
function flowline(args: string[]): string {
  return execFileSync(join(ROOT, ".venv", "bin", "python"), ["-m", "flowline", ...args],
    { env: { ...process.env, FLOWLINE_HOME: session.home }, encoding: "utf-8" });
}

step("a run whose tool imports a missing module ends as a failed run with the reason and the ways out", async () => {
  await bench.closeAllEditors();
  await bench.open("missing-package/flow.dag.yaml");
  const run = await runFlowByLens("missing-package");
  await run.locator(":scope > summary .icon.status-Failed").waitFor({ timeout: 30_000 });
  await run.locator(".error", { hasText: "No module named 'flowline_demo_missing_package'" }).first().waitFor();
  const toast = bench.page.locator(".notification-toast", { hasText: "No module named" });
  await toast.locator(".monaco-button", { hasText: "Install requirements.txt" }).waitFor({ timeout: 10_000 });
  await toast.locator(".monaco-button", { hasText: "Select Python Interpreter" }).waitFor();
  await bench.shot("14-missing-module");
  await bench.command("Notifications: Clear All Notifications");
  await toast.waitFor({ state: "detached" });
});

step("an image flow: the run panel shows the output image as a picture", async () => {
  await bench.closeAllEditors();
  await bench.open("image-info/flow.dag.yaml");
  const run = await runFlowByLens("image-info");
  await run.locator(":scope > summary .icon.status-Completed").waitFor({ timeout: 30_000 });
  const outputs = run.locator(":scope > details.section", { hasText: "Outputs" });
  await outputs.locator("pre", { hasText: "a 48x48 PNG image of 2056 bytes" }).waitFor();
  const picture = outputs.locator(".pictures img").first();
  await picture.waitFor();
  // Loaded from the run's output file through the webview's resource address: the decoded size is the sample's.
  const width = await picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0
    ? img.naturalWidth
    : new Promise<number>((resolve) => img.addEventListener("load", () => resolve(img.naturalWidth), { once: true })));
  assert.equal(width, 48);
  await bench.shot("15-image-output");
  rmSync(join(session.workspace, "image-info", ".promptflow"), { recursive: true, force: true });
});

step("adding an input in the visual editor to a node written inputs-first leaves valid YAML", async () => {
  const folder = join(session.workspace, "inputs-first");
  const flow = join(folder, "flow.dag.yaml");
  mkdirSync(folder);
  // How Prompt flow saves many flows: a node's `inputs:` before its `name:`.
  writeFileSync(flow, "inputs:\n  text:\n    type: string\n    default: hi\noutputs:\n  out:\n    type: string\n"
    + "    reference: ${echo.output}\nnodes:\n- inputs:\n    text: ${inputs.text}\n  name: echo\n  type: python\n"
    + "  source:\n    type: code\n    path: echo.py\n");
  writeFileSync(join(folder, "echo.py"), "from promptflow.core import tool\n\n\n@tool\n"
    + "def echo(text: str, suffix: str = \"\") -> str:\n    return text + suffix\n");
  try {
    await bench.closeAllEditors();
    await bench.open("inputs-first/flow.dag.yaml");
    await bench.codeLens("Open visual editor").first().click();
    const editor = bench.flowEditor();
    await editor.locator(".box[data-id='echo'] .name").click();
    await editor.locator("input[aria-label='New input name']").fill("suffix");
    await editor.locator("input[aria-label='New input value']").fill("!");
    await editor.locator("form.add-input button[type='submit']").click();
    await editor.locator("#input-suffix[data-original='!']").waitFor({ timeout: 10_000 });
    await editor.locator("[data-action='show-in-text']").click();  // to the flow's text editor
    await bench.editor().click({ position: { x: 400, y: 10 } });
    await bench.command("File: Save");
    const text = await fileOnceItHas(flow, "suffix");
    assert.match(text, /^- inputs:\n {4}text: \$\{inputs\.text\}\n {4}suffix: .*!.*\n {2}name: echo\n/m);
    flowline(["flow", "validate", "--source", folder]);  // exit 0: the YAML parses and the flow is valid
    await bench.shot("15-inputs-first");
  } finally {
    await bench.closeAllEditors();
    rmSync(folder, { recursive: true, force: true });
  }
});

step("cancelling a flow whose two branches run side by side ends the run and both branches as Canceled", async () => {
  await bench.open("parallel-wait/flow.dag.yaml");
  const run = await runFlowByLens("parallel-wait");
  const branches = ["wait_left", "wait_right"].map((name) => run.locator(`details.node[data-node='${name}']`));
  for (const branch of branches) {
    await branch.locator(".icon.status-Running").first().waitFor({ timeout: 30_000 });
  }
  await run.locator("button.cancel").click();
  await run.locator(":scope > summary .icon.status-Canceled").waitFor({ timeout: 30_000 });
  for (const branch of branches) {
    await branch.locator(".icon.status-Canceled").first().waitFor();
  }
  await bench.shot("16-canceled");
  await bench.runPanel().locator("button.clear").click();
  await run.waitFor({ state: "detached", timeout: 10_000 });
});

step("creating a connection clears the errors of a flow that names it, without an edit", async () => {
  const folder = join(session.workspace, "needs-connection");
  cpSync(join(session.workspace, "chat-basic"), folder, { recursive: true });
  const file = join(folder, "flow.dag.yaml");
  writeFileSync(file, readFileSync(file, "utf-8").replace("connection: local", "connection: e2e_model"));
  try {
    await bench.closeAllEditors();
    await bench.open("needs-connection/flow.dag.yaml");
    const rows = (await bench.problems()).filter({ hasText: "e2e_model" });
    await rows.first().waitFor({ timeout: 15_000 });
    await bench.command("Flowline: Create Connection...");
    await bench.pick("open_ai");
    await bench.answer("Connection name", "e2e_model");
    await bench.answer("Base URL", "http://127.0.0.1:9/v1");
    await bench.answer("API key", "sk-e2e-not-a-key");
    await rows.first().waitFor({ state: "detached", timeout: 15_000 });
    await bench.squiggles().first().waitFor({ state: "detached" });
    await bench.shot("17-connection-created");
  } finally {
    await bench.closeAllEditors();
    rmSync(folder, { recursive: true, force: true });
    if (flowline(["connection", "list"]).includes("e2e_model")) {
      flowline(["connection", "delete", "--name", "e2e_model"]);
    }
  }
});

step("time from opening a flow to its first diagnostics", async () => {
  // Flows never opened before, each with a mistake on its first line (in view): copies of chat-basic.
  const fresh = ["timing-a", "timing-b", "timing-c", "timing-d"];
  for (const flow of fresh) {
    cpSync(join(session.workspace, "chat-basic"), join(session.workspace, flow), { recursive: true });
    const file = join(session.workspace, flow, "flow.dag.yaml");
    writeFileSync(file, "bogus_key: 1\n" + readFileSync(file, "utf-8"));
  }
  // Once the server runs: three opens, the median kept.
  const opens = [];
  for (const flow of fresh.slice(0, 3)) {
    await bench.command("View: Close All Editors");
    opens.push(await bench.openAndTimeDiagnostics(`${flow}/flow.dag.yaml`, 10_000));
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  timings.firstDiagnosticsRunningMs = median(opens.map((o) => o.fromEditor));
  timings.firstDiagnosticsRunningFromQuickOpenMs = median(opens.map((o) => o.fromEnter));
  timings.firstDiagnosticsRunningSlowestMs = Math.max(...opens.map((o) => o.fromEditor));
  // When the server must start: restart it, then open the other flow at once.
  await bench.command("View: Close All Editors");
  await bench.command("Flowline: Restart Language Server");
  const starting = await bench.openAndTimeDiagnostics("timing-d/flow.dag.yaml", 30_000);
  timings.firstDiagnosticsStartingMs = starting.fromEditor;
  timings.firstDiagnosticsStartingFromQuickOpenMs = starting.fromEnter;
  await bench.shot("09-diagnostics-timing");
});

step("Debug node: a breakpoint set in the gutter pauses the node; continue completes it", async () => {
  await bench.closeAllEditors();
  await bench.open("debugging/flow.dag.yaml");
  const flowRun = await runFlowByLens("debugging");  // count_items's input comes from this run's parse_order
  await flowRun.locator(":scope > summary .icon.status-Completed").waitFor({ timeout: 30_000 });
  await bench.open("debugging/count_items.py");
  const line = lineOf("debugging/count_items.py", (text) => text.includes("# @bp"));
  await bench.toggleBreakpoint(line);
  await bench.breakpoints().first().waitFor({ timeout: 10_000 });
  try {
    await bench.open("debugging/flow.dag.yaml");
    const node = lineOf("debugging/flow.dag.yaml", (text) => text === "- name: count_items");
    await (await bench.codeLensAbove("Debug node", node)).click();
    await bench.activeTab().filter({ hasText: "count_items.py" }).waitFor({ timeout: 60_000 });
    await bench.pausedLine().waitFor({ timeout: 30_000 });
    await bench.cursorStatus().filter({ hasText: `Ln ${line},` }).waitFor({ timeout: 10_000 });
    const toolbar = bench.debugToolbar();
    await toolbar.waitFor();
    const run = bench.runPanel().locator("details.run", { hasText: "node count_items" }).first();
    await run.locator("details.node[data-node='count_items'] .icon.status-Running").waitFor({ timeout: 10_000 });
    await bench.shot("11-debug-paused");
    await toolbar.locator(".codicon-debug-continue").click();
    await run.locator(":scope > summary .icon.status-Completed").waitFor({ timeout: 30_000 });
    await run.locator("details.node[data-node='count_items'] .icon.status-Completed").waitFor();
    await toolbar.waitFor({ state: "hidden", timeout: 30_000 });
    await bench.shot("12-debug-completed");
  } finally {
    await bench.command("Remove All Breakpoints");
  }
});

step("Debug flow: an exception a tool does not handle pauses at the raising line; stop cancels the run", async () => {
  await bench.closeAllEditors();
  await bench.open("failing-tool/flow.dag.yaml");
  const nodes = lineOf("failing-tool/flow.dag.yaml", (text) => text === "nodes:");
  await (await bench.codeLensAbove("Debug flow", nodes)).click();
  await bench.activeTab().filter({ hasText: "parse_amount.py" }).waitFor({ timeout: 60_000 });
  await bench.pausedLine().waitFor({ timeout: 30_000 });
  await bench.cursorStatus().filter({ hasText: "Ln 8," }).waitFor({ timeout: 10_000 });
  await bench.page.locator(".exception-widget", { hasText: "ValueError" }).waitFor();
  await bench.shot("13-debug-exception");
  await bench.debugToolbar().locator(".codicon-debug-stop").click();
  const run = bench.runPanel().locator("details.run", { hasText: "failing-tool" }).first();
  await run.locator(":scope > summary .icon.status-Canceled").waitFor({ timeout: 30_000 });
  await bench.debugToolbar().waitFor({ state: "hidden", timeout: 30_000 });
});

step("web-classification with the studio's local model: a completed run in the run panel", async () => {
  await bench.open("web-classification/flow.dag.yaml");
  const run = await runFlowByLens("web-classification");
  await run.locator(":scope > summary .icon.status-Completed").waitFor({ timeout: 180_000 });
  await run.locator("details.node[data-node='classify_with_llm'] .icon.status-Completed").waitFor();
  await bench.shot("10-web-classification");
});

step("Chat: two questions to chat-basic stream two answers; the second turn's trace shows the first turn in its history", async () => {
  const folder = join(session.workspace, "chat-basic");
  await bench.closeAllEditors();
  await bench.open("chat-basic/flow.dag.yaml");
  await bench.top();
  await bench.codeLens("Chat").waitFor({ timeout: 60_000 });
  await bench.codeLens("Chat").click();
  const chat = bench.chatPanel();
  const message = chat.locator("textarea#message");
  await message.waitFor({ timeout: 30_000 });
  const questions = ["What is the capital of France?", "And what is the capital of Italy?"];
  // The local model may write a whole answer in a tenth of a second, between two of Playwright's polls: an
  // observer in the page notes each turn whose answer ever had words while the turn was still running.
  await chat.locator("body").evaluate((body) => {
    const streamed = new Set<number>();
    (window as unknown as { streamedTurns: Set<number> }).streamedTurns = streamed;
    new MutationObserver(() => {
      body.querySelectorAll(".turn").forEach((turn, index) => {
        if (turn.querySelector(".bubble.answer.status-Running p:not(.note)")) {
          streamed.add(index);
        }
      });
    }).observe(body, { childList: true, subtree: true, characterData: true, attributes: true });
  });
  try {
    for (const [index, question] of questions.entries()) {
      await message.fill(question);
      await message.press("Enter");
      const turn = chat.locator(".turn").nth(index);
      await turn.locator(".bubble.user", { hasText: question }).waitFor();
      await turn.locator(".bubble.answer.status-Completed").waitFor({ timeout: 180_000 });
      await bench.shot(`19-chat-answered-${index + 1}`);
      // Streamed: the answer had words while the turn was still running (the local model writes token by token).
      assert.ok(await chat.locator("body").evaluate((_, at) =>
        (window as unknown as { streamedTurns: Set<number> }).streamedTurns.has(at), index),
        `turn ${index + 1}'s answer never showed words while the turn was running`);
    }
    await bench.shot("20-chat-two-turns");
    await chat.locator(".turn").nth(1).locator("button.trace").click();
    const run = bench.runPanel().locator("details.run[open]", { hasText: "chat-basic" }).first();
    const inputs = run.locator("details.node[data-node='chat'] details.section", { hasText: "Inputs" });
    await inputs.locator("pre", { hasText: questions[0] }).waitFor({ timeout: 30_000 });
    await bench.shot("21-chat-trace");
    // The conversation belongs to the flow folder.
    const stored = JSON.parse(readFileSync(join(folder, ".flowline", "chat.json"), "utf-8")) as { turns: unknown[] };
    assert.equal(stored.turns.length, 2);
  } finally {
    await bench.closeAllEditors();
    rmSync(join(folder, ".flowline"), { recursive: true, force: true });
  }
});


step("the visual editor on web-classification: fit, connect two nodes by dragging, undo, run: every node Completed", async () => {
  const relative = "web-classification/flow.dag.yaml";
  const original = sample(relative);
  await bench.closeAllEditors();
  await bench.open(relative);
  await bench.top();
  await bench.codeLens("Open visual editor").click();
  const editor = bench.flowEditor();
  try {
    const node = (name: string) => editor.locator(`.react-flow__node[data-id='${name}']`);
    await node("convert_to_dict").waitFor({ timeout: 30_000 });
    await editor.locator("[data-action='fit']").click();
    await bench.shot("22-graph-web-classification");
    // Drag from fetch_text_content_from_url's output onto classify_with_llm's text_content input.
    const from = await node("fetch_text_content_from_url").locator(".react-flow__handle.source").boundingBox();
    const to = await node("classify_with_llm").locator(".react-flow__handle[data-handleid='text_content']").boundingBox();
    assert.ok(from && to);
    await bench.page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await bench.page.mouse.down();
    await bench.page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
    await bench.page.mouse.up();
    await editor.locator(".react-flow__edge[data-id='fetch_text_content_from_url->classify_with_llm:text_content']")
      .waitFor({ timeout: 15_000 });
    await bench.shot("23-graph-connected");
    await node("classify_with_llm").locator(".name").click();
    await editor.locator("[data-action='show-in-text']").click();  // the node's lines in the text editor beside
    await bench.editorShows("text_content: ${fetch_text_content_from_url.output}", "text_content: ${summarize");
    await bench.page.keyboard.press("Control+z");  // in the text editor, which Show in text focused
    await bench.editorShows("text_content: ${summarize_text_content.output}", "text_content: ${fetch");
    await editor.locator(".react-flow__edge[data-id='summarize_text_content->classify_with_llm:text_content']")
      .waitFor({ timeout: 15_000 });
    await bench.dirtyTab().waitFor({ state: "detached" });  // undone back to the file as saved
    await editor.locator("[data-action='run-flow']").click();
    for (const name of ["fetch_text_content_from_url", "summarize_text_content", "prepare_examples", "classify_with_llm",
      "convert_to_dict"]) {
      await node(name).locator(".box.status-Completed").waitFor({ timeout: 180_000 });
    }
    // A picture of the whole graph (docs/images/visual-editor.png): the visual editor's group maximized, the panel
    // hidden and the inspector folded; then everything back as it was.
    const text = bench.page.locator(".editor-group-container:not(.active) .monaco-editor");  // the group beside
    const panel = bench.page.locator("#workbench\\.parts\\.panel");
    await bench.command("View: Toggle Maximize Editor Group");
    await text.waitFor({ state: "hidden", timeout: 15_000 });
    await bench.command("View: Hide Panel");
    await panel.waitFor({ state: "hidden", timeout: 15_000 });
    await editor.locator("[data-action='toggle-inspector']").click();
    await editor.locator(".inspector.collapsed").waitFor();
    const viewport = editor.locator(".react-flow__viewport");
    const before = await viewport.evaluate((element) => (element as HTMLElement).style.transform);
    await editor.locator("[data-action='fit']").click();
    await viewport.and(editor.locator(`.react-flow__viewport:not([style*="${before}"])`)).waitFor();  // fitted anew
    await bench.shot("24-graph-run-completed");
    await editor.locator("[data-action='toggle-inspector']").click();
    await editor.locator(".inspector:not(.collapsed)").waitFor();
    await bench.command("View: Toggle Panel Visibility");
    await panel.waitFor({ timeout: 15_000 });
    await bench.command("View: Toggle Maximize Editor Group");
    await text.waitFor({ timeout: 15_000 });
  } finally {
    await restoreSample(relative, original, "name: fetch_text_content_from_url", "text_content: ${fetch");
  }
});

step("every sample's graph, for review", async () => {
  const samples = readdirSync(session.workspace).filter((name) => existsSync(join(session.workspace, name, "flow.dag.yaml")));
  for (const name of samples.sort()) {
    await bench.closeAllEditors();
    await bench.open(`${name}/flow.dag.yaml`);
    await bench.top();
    await bench.codeLens("Open visual editor").click();
    const editor = bench.flowEditor();
    await editor.locator(".react-flow__node").first().waitFor({ timeout: 30_000 });
    await editor.locator("[data-action='fit']").click();
    await bench.shot(`graph-${name}`);
  }
  await bench.closeAllEditors();
});
