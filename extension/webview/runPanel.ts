/**
 * The run panel's page: renders the extension's last `state` message (runs as trees, the run form)
 * and posts what the user asks for. Built with DOM calls and textContent only: outputs are user
 * data and never become markup.
 */

import type { BatchRun, FlowForm, FromWebview, InputField, NodeForm, ToWebview } from "../src/messages";
import type { NodeNeed } from "../src/protocol";
import type { NodeView, RunView } from "../src/runModel";
import { formatDuration, formatTokens, isClipped, runTitle } from "../src/runModel";
import { findImages, imageSource } from "../src/imageValues";
import { display } from "../src/inputs";
import { el, ICONS, type VsCodeApi } from "./dom";

declare function acquireVsCodeApi(): VsCodeApi<FromWebview>;

const vscode = acquireVsCodeApi();
const app = document.getElementById("app") as HTMLElement;


/** Which runs and nodes the user opened or closed, kept across renders and reloads. */
const saved = (vscode.getState() ?? {}) as { open?: Record<string, boolean> };
const open: Record<string, boolean> = saved.open ?? {};
let formKey = "";
let nodeFormKey = "";
let lastState: Extract<ToWebview, { type: "state" }> | undefined;

function statusIcon(status: string): HTMLElement {
  return el("span", { class: `icon status-${status}`, role: "img", "aria-label": status, title: status },
    ICONS[status] ?? "•");
}

function json(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function remembered(details: HTMLDetailsElement, key: string, byDefault: boolean): HTMLDetailsElement {
  details.open = open[key] ?? byDefault;
  details.addEventListener("toggle", () => {
    open[key] = details.open;
    vscode.setState({ open });
  });
  return details;
}

/** A value under a title that opens and closes; a value the language server clipped (`clipped`) says so in its title. */
function section(title: string, value: unknown, key: string, byDefault = false, clipped = isClipped(value))
  : HTMLElement | null {
  if (value === undefined || value === null || value === "") {
    return null;
  }
  const summary = clipped
    ? el("summary", { title: "Too large for the editor: the end of the value says how much was left out" }, title,
      el("span", { class: "clipped" }, " · clipped"))
    : el("summary", {}, title);
  return remembered(el("details", { class: "section" }, summary, pictures(value),
    el("pre", { class: "json", tabindex: "0" }, json(value))), key, byDefault);
}

/** The images a value holds (files the run wrote), as pictures above its JSON; URLs are not loaded. */
function pictures(value: unknown): HTMLElement | null {
  const shown = findImages(value).flatMap((image) => {
    const source = image.path !== undefined && lastState ? imageSource(lastState.imageRoot, image.path) : undefined;
    const label = image.at || "image";
    return source ? [el("figure", {}, el("img", { src: source, alt: label, title: image.path ?? "" }),
      el("figcaption", {}, label))] : [];
  });
  return shown.length ? el("div", { class: "pictures" }, ...shown) : null;
}

/** A `file:line` link that asks the extension to open the file there. */
function location(file: string, line: number | undefined, text: string): HTMLElement {
  const link = el("a", { href: "#", class: "location", "data-file": file, "data-line": String(line ?? 1) }, text);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    vscode.postMessage({ type: "open", file, line });
  });
  return link;
}

function errorBlock(error: RunView["error"]): HTMLElement | null {
  if (!error) {
    return null;
  }
  const block = el("div", { class: "error", role: "alert" }, el("strong", {}, `${error.type}: `), error.message);
  if (error.file) {
    block.append(el("div", {}, "at ", location(error.file, error.line,
      `${error.file}${error.line ? `:${error.line}` : ""}`)));
  }
  if (error.problems?.length) {
    block.append(el("ul", { class: "problems", "aria-label": "errors that kept the run from starting" },
      ...error.problems.map((p) => el("li", { class: "problem" },
        location(p.file, p.line, `${p.file}:${p.line}:${p.column}`), `: ${p.message}`))));
  }
  if (error.traceback) {
    block.append(el("pre", { class: "traceback" }, error.traceback));
  }
  return block;
}

function promptBlock(prompt: unknown, key: string): HTMLElement | null {
  if (!Array.isArray(prompt)) {
    return section("Prompt", prompt, key);
  }
  const list = el("div", { class: "messages" });
  for (const message of prompt as { role?: string; content?: unknown }[]) {
    list.append(el("div", { class: `message role-${message.role ?? "user"}` },
      el("span", { class: "role" }, message.role ?? "user"), el("pre", {}, json(message.content ?? ""))));
  }
  return remembered(el("details", { class: "section" }, el("summary", {}, "Prompt messages"), list), key, false);
}

function nodeItem(run: RunView, node: NodeView): HTMLElement {
  const key = `${run.runId}/${node.name}`;
  const summary = el("summary", {}, statusIcon(node.status), el("span", { class: "name" }, node.name),
    el("span", { class: "meta" }, formatDuration(node.durationMs)), el("span", { class: "meta" },
      formatTokens(node.tokens)));
  const details = remembered(el("details", { class: `node status-${node.status}`, "data-node": node.name },
    summary,
    el("div", { class: "detail" },
      errorBlock(node.error),
      section("Inputs", node.inputs, `${key}/inputs`),
      promptBlock(node.prompt, `${key}/prompt`),
      node.status === "Running" && node.streamed ? el("pre", { class: "streamed" }, node.streamed) : null,
      section("Output", node.output, `${key}/output`, true),
      node.logs.length ? section("Logs", node.logs.map((l) => (l.stream === "stderr" ? "! " : "") + l.message)
        .join("\n"), `${key}/logs`, true, node.logs.some((l) => isClipped(l.message))) : null)), key,
    node.status === "Failed");
  return el("li", { role: "treeitem", "aria-label": `${node.name} ${node.status}` }, details);
}

function runItem(run: RunView, running: boolean, newest: boolean): HTMLElement {
  const title = runTitle(run.flow, run.node);
  const actions = el("span", { class: "actions" });
  if (running) {
    const cancel = el("button", { class: "cancel", title: "Cancel this run" }, "Cancel");
    cancel.addEventListener("click", (e) => { e.preventDefault(); vscode.postMessage({ type: "cancel", runId: run.runId }); });
    actions.append(cancel);
  } else if (!run.runId.startsWith("not-started-")) {
    const rerun = el("button", { class: "rerun", title: "Run again with the same inputs" }, "Re-run");
    rerun.addEventListener("click", (e) => { e.preventDefault(); vscode.postMessage({ type: "rerun", runId: run.runId }); });
    actions.append(rerun);
  }
  const summary = el("summary", {}, statusIcon(run.status), el("span", { class: "name" }, title),
    el("span", { class: "meta" }, formatDuration(run.durationMs)), el("span", { class: "meta" },
      formatTokens(run.tokens)), actions);
  const nodes = el("ul", { class: "nodes", role: "tree", "aria-label": `nodes of ${title}` },
    ...run.nodes.map((n) => nodeItem(run, n)));
  const metrics = run.metrics && Object.keys(run.metrics).length ? section("Metrics", run.metrics,
    `${run.runId}/metrics`, true) : null;
  return remembered(el("details", { class: `run status-${run.status}`, "data-run": run.runId }, summary,
    errorBlock(run.error), nodes, section("Outputs", run.outputs, `${run.runId}/outputs`, true), metrics),
  run.runId, newest);
}

function field(input: InputField, value: unknown): HTMLElement {
  const id = `input-${input.name}`;
  const shown = display(value ?? input.default);
  let control: HTMLElement;
  if (input.type === "bool") {
    const select = el("select", { id, "data-name": input.name },
      el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
    select.value = shown === "true" ? "true" : "false";
    control = select;
  } else if (input.type === "list" || input.type === "object") {
    control = el("textarea", { id, "data-name": input.name, rows: "2", spellcheck: "false" }, shown);
  } else {
    control = el("input", { id, "data-name": input.name, type: "text", value: shown, spellcheck: "false" });
  }
  return el("div", { class: "field" },
    el("label", { for: id }, input.name, el("span", { class: "type" }, input.type ?? "string")),
    control, input.description ? el("div", { class: "hint" }, input.description) : null);
}

function renderForm(flows: FlowForm[], selected: string | null): HTMLElement {
  const form = el("form", { class: "run-form", "aria-label": "Run a flow" });
  const chosen = flows.find((f) => f.uri === selected) ?? flows[0];
  if (!chosen) {
    form.append(el("p", { class: "empty" }, "Open a flow.dag.yaml to run it from here."));
    return form;
  }
  const picker = el("select", { id: "flow-picker", "aria-label": "Flow" },
    ...flows.map((f) => el("option", { value: f.uri }, f.name)));
  picker.value = chosen.uri;
  picker.addEventListener("change", () => vscode.postMessage({ type: "select", uri: picker.value }));
  form.append(el("div", { class: "row" }, el("label", { for: "flow-picker" }, "Flow"), picker));
  for (const input of chosen.fields) {
    form.append(field(input, chosen.values[input.name]));
  }
  form.append(el("button", { type: "submit", class: "primary", id: "run-flow" }, "Run flow"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values: Record<string, unknown> = {};
    for (const control of form.querySelectorAll<HTMLInputElement>("[data-name]")) {
      values[control.dataset.name as string] = control.value;
    }
    vscode.postMessage({ type: "run", uri: chosen.uri, values });
  });
  return form;
}

function nodeField(need: NodeNeed, value: unknown): HTMLElement {
  const id = `node-input-${need.key}`;
  const producer = need.reference.replace(/^\$\{([^.}]+).*$/, "$1");
  const hint = need.kind === "node"
    ? `The output of node '${producer}' (no run of this flow has produced it yet, or its last output was too large `
      + "to keep whole): JSON, or plain text."
    : `A flow input without a default${need.type ? ` (${need.type})` : ""}.`;
  return el("div", { class: "field" },
    el("label", { for: id }, need.input, el("span", { class: "type" }, need.reference)),
    el("textarea", { id, "data-key": need.key, rows: "2", spellcheck: "false" }, display(value)),
    el("div", { class: "hint" }, hint));
}

/** The values a node run lacks: one field each, Run node and Cancel. */
function renderNodeForm(form: NodeForm): HTMLElement {
  const cancel = el("button", { type: "button", class: "dismiss" }, "Cancel");
  cancel.addEventListener("click", () => vscode.postMessage({ type: "closeNodeForm" }));
  const element = el("form", { class: "node-form", "aria-label": `Values for ${form.title}`, "data-node": form.node },
    el("h2", {}, `Run ${form.title}`),
    el("p", { class: "hint" }, "Its inputs below come from nodes that have not run (or from flow inputs without a "
      + "value): give them here, or run the flow first."),
    ...form.fields.map((need) => nodeField(need, form.values[need.key])),
    el("div", { class: "row" }, el("button", { type: "submit", class: "primary", id: "run-node" }, "Run node"),
      " ", cancel));
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    const values: Record<string, string> = {};
    for (const control of element.querySelectorAll<HTMLTextAreaElement>("[data-key]")) {
      values[control.dataset.key as string] = control.value;
    }
    vscode.postMessage({ type: "runNode", uri: form.uri, node: form.node, values });
  });
  return element;
}

/** Shows the node form after the run form (drawn again only when it asks for something else). */
function placeNodeForm(form: NodeForm | null, after: Element): void {
  const key = form ? JSON.stringify([form.uri, form.node, form.fields]) : "";
  const previous = app.querySelector(".node-form");
  if (key === nodeFormKey && (previous !== null) === (form !== null)) {
    return;
  }
  nodeFormKey = key;
  previous?.remove();
  if (form) {
    const fresh = renderNodeForm(form);
    after.after(fresh);
    fresh.querySelector("textarea")?.focus();
  }
}

function batchItem(run: BatchRun): HTMLElement {
  const report = el("button", { class: "report", title: "Open the run's report" }, "Report");
  report.addEventListener("click", () => vscode.postMessage({ type: "report", names: [run.name] }));
  const lines = run.lines_total !== undefined
    ? `${run.lines_completed ?? 0}/${run.lines_total} lines${run.lines_failed ? `, ${run.lines_failed} failed` : ""}` : "";
  const metrics = Object.entries(run.metrics ?? {}).map(([k, v]) => `${k} ${typeof v === "number"
    ? Number(v.toFixed(4)) : JSON.stringify(v)}`).join(" · ");
  return el("li", { class: "batch", "data-batch": run.name }, statusIcon(run.status),
    el("span", { class: "name" }, run.name), el("span", { class: "meta" }, run.flow.split(/[\\/]/).pop() ?? ""),
    el("span", { class: "meta" }, lines), el("span", { class: "metrics" }, metrics), el("span", { class: "actions" }, report));
}

function renderBatches(batches: BatchRun[]): HTMLElement {
  const refresh = el("button", { class: "refresh", title: "Read the stored runs again" }, "Refresh");
  refresh.addEventListener("click", () => vscode.postMessage({ type: "refreshBatches" }));
  const compare = el("button", { class: "compare", title: "Report of every listed run side by side" }, "Compare all");
  compare.addEventListener("click", () => vscode.postMessage({ type: "report", names: batches.map((b) => b.name) }));
  return remembered(el("details", { class: "batches" },
    el("summary", {}, el("h2", {}, `Batch runs (${batches.length})`), el("span", { class: "actions" }, refresh,
      batches.length > 1 ? compare : null)),
    batches.length ? el("ul", { class: "batch-list", "aria-label": "stored batch runs" }, ...batches.map(batchItem))
      : el("p", { class: "empty" }, "No stored runs: Flowline: Run Flow over a Dataset, or `flowline run create`.")),
  "batches", false);
}

/** Puts a freshly drawn section where its previous drawing was (or at the end the first time). */
function place(fresh: HTMLElement, selector: string): void {
  const previous = app.querySelector(selector);
  if (previous) {
    previous.replaceWith(fresh);
  } else {
    app.append(fresh);
  }
}

/** Opens a run, its nodes and their inputs and prompts (kept open across renders, as if the user had). */
function openRun(run: RunView): void {
  open[run.runId] = true;
  for (const node of run.nodes) {
    const key = `${run.runId}/${node.name}`;
    open[key] = true;
    open[`${key}/inputs`] = true;
    open[`${key}/prompt`] = true;
  }
  vscode.setState({ open });
}

/** Scrolls a run to the top of the panel, its summary focused for the keyboard. */
function scrollToRun(runId: string): void {
  const details = Array.from(app.querySelectorAll<HTMLDetailsElement>("details.run"))
    .find((d) => d.dataset.run === runId);
  if (details) {
    details.scrollIntoView({ block: "start" });
    details.querySelector<HTMLElement>(":scope > summary")?.focus({ preventScroll: true });
  }
}

function render(state: Extract<ToWebview, { type: "state" }>): void {
  lastState = state;
  const focused = state.focus ? state.runs.find((r) => r.runId === state.focus) : undefined;
  if (focused) {
    openRun(focused);
  }
  const key = JSON.stringify([state.selected, state.flows.map((f) => [f.uri, f.fields])]);
  let form = app.querySelector(".run-form");
  if (!form || key !== formKey) {
    formKey = key;  // the form is rebuilt only when its flow or fields change, so typing is never lost
    const fresh = renderForm(state.flows, state.selected);
    if (form) {
      form.replaceWith(fresh);
    } else {
      app.prepend(fresh);
    }
    form = fresh;
  }
  placeNodeForm(state.nodeForm, form);
  const running = new Set(state.running);
  const toolbar = el("div", { class: "toolbar" }, el("h2", {}, "Runs"));
  if (state.runs.length) {
    const clear = el("button", { class: "clear", title: "Forget finished runs" }, "Clear");
    clear.addEventListener("click", () => vscode.postMessage({ type: "clear" }));
    toolbar.append(clear);
  }
  const list = el("div", { class: "runs", role: "list" }, toolbar,
    ...(state.runs.length ? state.runs.map((run, index) => runItem(run, running.has(run.runId), index === 0))
      : [el("p", { class: "empty" }, "No runs yet: click Run flow or Run node above a node in flow.dag.yaml.")]));
  place(list, ".runs");
  place(renderBatches(state.batches), ".batches");
  if (focused) {
    scrollToRun(focused.runId);
  }
}

window.addEventListener("message", (event: MessageEvent<ToWebview>) => {
  if (event.data?.type === "state") {
    render(event.data);
  }
});

if (lastState === undefined) {
  vscode.postMessage({ type: "ready" });
}
