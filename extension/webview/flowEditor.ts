/**
 * The visual editor's page: draws the flow as a left-to-right graph (flow inputs → nodes → outputs,
 * each node with its latest run status and problems) and an inspector for the selected element that
 * edits node inputs (an LLM node's connection, API, model and parameters too), renames, adds and
 * deletes nodes. Every change is posted to the extension as a `flowline.editFlow` edit; the page
 * never changes the text itself. DOM calls and textContent only.
 */

import type { FromFlowEditor, NodeProblem, NodeRun, ToFlowEditor } from "../src/editorMessages";
import { addNodeEdit, BOX_HEIGHT, BOX_WIDTH, type Box, layout, literal, nodeKinds, nodeNameProblem, referenceChoices }
  from "../src/flowGraph";
import { display } from "../src/inputs";
import { apiChoices, type Choice, connectionChoices, connectionHint, listedProblems, modelMissing, type ModelParameters,
  modelParameters, parameterValue, placeholderFor } from "../src/llmFields";
import type { FlowEdit, FlowGraph, GraphNode, LlmParameter } from "../src/protocol";
import { formatDuration } from "../src/runModel";
import { el, ICONS, type VsCodeApi } from "./dom";

declare function acquireVsCodeApi(): VsCodeApi<FromFlowEditor>;

type GraphMessage = Extract<ToFlowEditor, { type: "graph" }>;

const vscode = acquireVsCodeApi();
const app = document.getElementById("app") as HTMLElement;
const SVG = "http://www.w3.org/2000/svg";

let selected: string | null = ((vscode.getState() ?? {}) as { selected?: string }).selected ?? null;
let current: GraphMessage | undefined;
let inspectorKey = "";
let boxes: Box[] = [];
/** A node added a moment ago: scrolled into view when the graph first shows it. */
let toReveal: string | null = null;

function button(label: string, action: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const element = el("button", { type: "button", ...attrs }, label);
  element.addEventListener("click", action);
  return element;
}

function post(message: FromFlowEditor): void {
  vscode.postMessage(message);
}

function edit(change: FlowEdit): void {
  post({ type: "edit", edit: change, version: current?.graph.version ?? null });
}

function select(id: string | null, focus = false): void {
  selected = id;
  vscode.setState({ selected });
  render();
  const box = id ? app.querySelector(`.box[data-id="${CSS.escape(id)}"]`) as HTMLElement | null : null;
  box?.scrollIntoView({ block: "nearest", inline: "nearest" });
  if (focus) {
    box?.focus();
  }
}

const shell = {
  toolbar: el("div", { class: "toolbar", role: "toolbar", "aria-label": "Flow" }),
  canvas: el("div", { class: "canvas", role: "group", "aria-label": "Flow graph" }),
  inspector: el("aside", { class: "inspector", "aria-label": "Details of the selected element" }),
  status: el("div", { class: "status", role: "status" }),
};
app.append(shell.toolbar, el("div", { class: "main" }, el("div", { class: "canvas-scroll" }, shell.canvas), shell.inspector),
  shell.status);

let toolbarKey = "";

/** The toolbar, drawn again only when what it shows changes (not while the user types a node name). */
function renderToolbar(message: GraphMessage): void {
  const chat = message.graph.chat?.refusal === null;  // a chat flow: the toolbar offers its chat panel
  const key = JSON.stringify([message.name, message.graph.nodes.length, message.running, message.graph.version,
    message.graph.package_tools?.map((t) => t.id), chat]);
  if (key === toolbarKey || typing(shell.toolbar)) {
    return;
  }
  toolbarKey = key;
  const name = el("input", { name: "node-name", placeholder: "new node name", "aria-label": "New node name",
    spellcheck: "false" });
  const kinds = nodeKinds(message.graph);
  const group = (label: string) => el("optgroup", { label },
    ...kinds.filter((k) => k.group === label).map((k) => el("option", { value: k.value, title: k.title ?? "" }, k.label)));
  const type = el("select", { name: "node-type", "aria-label": "New node type" },
    ...(kinds.some((k) => k.group === "Package tools") ? [group("Code"), group("Package tools")]
      : kinds.map((k) => el("option", { value: k.value }, k.label))));
  const add = el("form", { class: "add" }, name, type, el("button", { type: "submit" }, "Add node"));
  add.addEventListener("submit", (event) => {
    event.preventDefault();
    const problem = nodeNameProblem(message.graph, name.value.trim());
    if (problem) {
      shell.status.textContent = problem;
      name.focus();
      return;
    }
    edit(addNodeEdit(message.graph, name.value.trim(), type.value));
    selected = name.value.trim();
    vscode.setState({ selected });
    toReveal = selected;
    name.value = "";
  });
  const count = message.graph.nodes.length;
  shell.toolbar.replaceChildren(
    el("strong", { class: "title" }, message.name),
    el("span", { class: "meta" }, `${count} node${count === 1 ? "" : "s"}${message.running ? " · running" : ""}`),
    button("▶ Run flow", () => post({ type: "runFlow" }), { class: "primary", "data-action": "run-flow" }),
    button("Debug flow", () => post({ type: "debugFlow" }), { "data-action": "debug-flow" }),
    ...(chat ? [button("Chat", () => post({ type: "openChat" }), { "data-action": "open-chat",
      title: "Chat with the flow in a panel beside it" })] : []),
    add,
    button("Show text", () => post({ type: "reveal", id: selected ?? "" }), { "data-action": "show-text" }),
  );
}

function worst(problems: NodeProblem[] | undefined): string | null {
  if (!problems?.length) {
    return null;
  }
  return problems.some((p) => p.severity === "error") ? "error" : problems.some((p) => p.severity === "warning")
    ? "warning" : "info";
}

function boxElement(box: Box, message: GraphMessage): HTMLButtonElement {
  const node = message.graph.nodes.find((n) => n.name === box.id);
  const run: NodeRun | undefined = node ? message.runs[node.name] : undefined;
  const problem = node ? worst(message.problems[node.name]) : null;
  const classes = ["box", `kind-${box.kind}`];
  if (run) {
    classes.push(`status-${run.status}`);
  }
  if (problem) {
    classes.push(`problem-${problem}`);
  }
  if (box.id === selected) {
    classes.push("selected");
  }
  const detail = box.kind === "input" ? `input · ${message.graph.inputs.find((i) => `inputs.${i.name}` === box.id)?.type ?? "string"}`
    : box.kind === "output" ? "output" : [node?.type ?? "?", node?.aggregation ? "aggregation" : null]
      .filter(Boolean).join(" · ");
  const status = run ? el("span", { class: `run status-${run.status}`, title: run.error ?? run.status },
    `${ICONS[run.status] ?? ""} ${formatDuration(run.durationMs)}`.trim()) : null;
  const label = [box.label, detail, run ? run.status : null, problem ? `has ${problem}s` : null].filter(Boolean).join(", ");
  const element = el("button", { type: "button", class: classes.join(" "), "data-id": box.id, "aria-label": label,
    "aria-pressed": String(box.id === selected) },
  el("span", { class: "name" }, box.label), el("span", { class: "detail" }, detail, status));
  element.style.left = `${box.x}px`;
  element.style.top = `${box.y}px`;
  element.style.width = `${BOX_WIDTH}px`;
  element.style.height = `${BOX_HEIGHT}px`;
  element.addEventListener("click", () => select(box.id));
  element.addEventListener("dblclick", () => post({ type: "reveal", id: box.id }));
  element.addEventListener("keydown", (event) => keyOnBox(event, box));
  return element;
}

/** Arrow keys move between boxes (up/down in a column, left/right to the nearest row); Delete removes a node. */
function keyOnBox(event: KeyboardEvent, box: Box): void {
  const column = boxes.filter((b) => b.layer === box.layer).sort((a, b) => a.y - b.y);
  let next: Box | undefined;
  switch (event.key) {
    case "ArrowUp":
      next = column[column.indexOf(box) - 1];
      break;
    case "ArrowDown":
      next = column[column.indexOf(box) + 1];
      break;
    case "ArrowLeft":
    case "ArrowRight": {
      const step = event.key === "ArrowLeft" ? -1 : 1;
      const layers = [...new Set(boxes.map((b) => b.layer))].sort((a, b) => a - b);
      const layer = layers[layers.indexOf(box.layer) + step];
      next = boxes.filter((b) => b.layer === layer).sort((a, b) => Math.abs(a.y - box.y) - Math.abs(b.y - box.y))[0];
      break;
    }
    case "Delete":
      if (box.kind === "node") {
        post({ type: "remove", node: box.id, version: current?.graph.version ?? null });
      }
      break;
    case "Escape":
      select(null);
      break;
    default:
      return;
  }
  event.preventDefault();
  if (next) {
    select(next.id, true);
  }
}

function renderCanvas(message: GraphMessage): void {
  const drawn = layout(message.graph);
  boxes = drawn.boxes;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "lines");
  svg.setAttribute("width", String(drawn.width));
  svg.setAttribute("height", String(drawn.height));
  svg.setAttribute("aria-hidden", "true");
  for (const line of drawn.lines) {
    const path = document.createElementNS(SVG, "path");
    const classes = ["line"];
    if (line.port === "activate") {
      classes.push("activate");
    }
    if (selected && (line.source === selected || line.target === selected)) {
      classes.push("active");
    }
    path.setAttribute("class", classes.join(" "));
    path.setAttribute("d", line.path);
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${line.source} → ${line.target}.${line.port}`;
    path.append(title);
    svg.append(path);
  }
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.id;
  shell.canvas.replaceChildren(svg, ...drawn.boxes.map((box) => boxElement(box, message)));
  shell.canvas.style.width = `${drawn.width}px`;
  shell.canvas.style.height = `${drawn.height}px`;
  if (focused) {
    (shell.canvas.querySelector(`.box[data-id="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus();
  }
}

function field(label: string, value: string): HTMLElement {
  return el("div", { class: "fact" }, el("span", { class: "label" }, label), el("span", { class: "value" }, value));
}

function problemList(problems: NodeProblem[] | undefined): HTMLElement | null {
  if (!problems?.length) {
    return null;
  }
  return el("ul", { class: "problems" }, ...problems.map((p) => el("li", { class: `problem-${p.severity}` }, p.message)));
}

/** What an input's row shows beside the value (type, placeholder, "required", a tooltip) and how it reads typed text. */
interface InputAbout {
  type: string | null;
  placeholder: string;
  required: boolean;
  description?: string;
  parse: (text: string) => unknown;
}

/** An input as the node's tool or template takes it. */
function toolInput(node: GraphNode, name: string): InputAbout {
  const parameter = node.parameters.find((p) => p.name === name);
  const set = Object.prototype.hasOwnProperty.call(node.inputs, name);
  return { type: parameter?.annotation ?? null, required: Boolean(parameter?.required) && !set, parse: literal,
    placeholder: parameter?.default ? `default ${parameter.default}` : parameter?.required ? "required" : "not set" };
}

/** An input an LLM node passes to the model, as the parameter table describes it. */
function modelSetting(parameter: LlmParameter | undefined, required = false): InputAbout {
  return { type: parameter?.type ?? null, placeholder: placeholderFor(parameter), required,
    description: parameter?.description, parse: (text) => parameterValue(parameter, text) };
}

/** One row of the node's inputs: its name (with its type) and its value, edited in place. */
function inputRow(node: GraphNode, name: string, choices: string, about = toolInput(node, name)): HTMLElement {
  const set = Object.prototype.hasOwnProperty.call(node.inputs, name);
  const id = `input-${name}`;
  const tooltip: Record<string, string> = about.description ? { title: about.description } : {};
  const value = el("input", { id, class: "value", list: choices, spellcheck: "false", placeholder: about.placeholder,
    ...tooltip });
  value.value = set ? display(node.inputs[name]) : "";
  value.dataset.original = value.value;
  value.addEventListener("change", () => {
    value.dataset.original = value.value;  // committed: a redraw may replace it now
    if (value.value.trim() === "") {
      if (set) {
        edit({ kind: "clearInput", node: node.name, input: name });
      }
      return;
    }
    edit({ kind: "setInput", node: node.name, input: name, value: about.parse(value.value) });
  });
  const label = el("label", { for: id, ...tooltip }, name,
    about.type ? el("span", { class: "type" }, about.type) : null,
    about.required ? el("span", { class: "required" }, "required") : null);
  const clear = set ? button("×", () => edit({ kind: "clearInput", node: node.name, input: name }),
    { class: "icon", title: `Remove the input '${name}'`, "aria-label": `Remove the input '${name}'` }) : null;
  return el("div", { class: "input-row" }, label, el("div", { class: "edit" }, value, clear));
}

/** A labelled picker of a node-level field whose change posts `setNodeField`; a value that is not known is flagged. */
function picker(node: GraphNode, field: string, options: Choice[], hint: HTMLElement | null): HTMLElement {
  const id = `llm-${field}`;
  const flagged = options.some((o) => o.selected && o.unknown);
  const attrs: Record<string, string> = { id, class: flagged ? "value flagged" : "value" };
  if (flagged) {
    attrs["aria-invalid"] = "true";
  }
  if (hint) {
    attrs["aria-describedby"] = `${id}-hint`;
  }
  const select = el("select", attrs, ...options.map((o) => {
    const option = el("option", { value: o.value, ...(o.value === "" ? { disabled: "" } : {}) }, o.label);
    option.selected = o.selected;
    return option;
  }));
  select.addEventListener("change", () => edit({ kind: "setNodeField", node: node.name, field, value: select.value }));
  hint?.setAttribute("id", `${id}-hint`);
  return el("div", { class: "input-row" }, el("label", { for: id }, field), el("div", { class: "edit" }, select), hint);
}

/** An LLM node's model settings: its connection, API and model, the parameters it sets, a form to add one. */
function llmSection(message: GraphMessage, node: GraphNode, settings: ModelParameters, choices: string): HTMLElement[] {
  const hint = connectionHint(message.graph, node);
  const create = hint === null ? null : el("p", { class: "hint connection-hint" }, hint, " ",
    button("Create Connection...", () => post({ type: "createConnection" }), { "data-action": "create-connection" }));
  const parameter = el("select", { name: "add-parameter", "aria-label": "Parameter to add" },
    el("option", { value: "" }, "+ parameter"),
    ...settings.addable.map((p) => el("option", { value: p.name, title: p.description }, p.name)));
  const value = el("input", { name: "parameter-value", "aria-label": "Value of the parameter to add", placeholder: "value",
    list: choices, spellcheck: "false" });
  parameter.addEventListener("change", () => {
    const chosen = settings.addable.find((p) => p.name === parameter.value);
    value.placeholder = chosen ? placeholderFor(chosen) : "value";
    value.title = chosen?.description ?? "";
  });
  const add = el("form", { class: "add-input" }, parameter, value, el("button", { type: "submit" }, "Add"));
  add.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = settings.addable.find((p) => p.name === parameter.value);
    if (!chosen || !value.value.trim()) {
      shell.status.textContent = chosen ? `Give ${chosen.name} a value.` : "Choose a parameter to add.";
      (chosen ? value : parameter).focus();
      return;
    }
    edit({ kind: "setInput", node: node.name, input: chosen.name, value: parameterValue(chosen, value.value) });
    value.value = "";  // sent: the redraw that shows the new row may replace the form now
  });
  return [
    el("h3", {}, "Model"),
    picker(node, "connection", connectionChoices(message.graph, node), create),
    picker(node, "api", apiChoices(node), null),
    inputRow(node, settings.model.name, choices, modelSetting(settings.model.parameter, modelMissing(node))),
    ...settings.present.map((p) => inputRow(node, p.name, choices, modelSetting(p))),
    settings.addable.length ? add : null,
  ].filter((e): e is HTMLElement => e !== null);
}

function nodeInspector(message: GraphMessage, node: GraphNode): HTMLElement[] {
  const run = message.runs[node.name];
  const rename = el("input", { class: "rename", "aria-label": "Node name", spellcheck: "false" });
  rename.value = node.name;
  rename.dataset.original = node.name;
  const renameForm = el("form", { class: "rename-form" }, rename, el("button", { type: "submit" }, "Rename"));
  renameForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = rename.value.trim();
    if (name === node.name) {
      return;
    }
    const problem = nodeNameProblem(message.graph, name, node.name);
    if (problem) {
      shell.status.textContent = problem;
      return;
    }
    rename.dataset.original = name;
    edit({ kind: "renameNode", name: node.name, newName: name });
    selected = name;
    vscode.setState({ selected });
  });
  const choices = `choices-${node.name}`;
  const settings = node.type === "llm" ? modelParameters(message.graph, node) : null;
  const model = new Set(settings ? [settings.model.name, ...settings.present.map((p) => p.name)] : []);
  const names = [...node.parameters.map((p) => p.name),
    ...Object.keys(node.inputs).filter((k) => !node.parameters.some((p) => p.name === k))]
    .filter((name) => !model.has(name));  // an LLM node's model settings have their own section
  const newName = el("input", { "aria-label": "New input name", placeholder: "name", spellcheck: "false" });
  const newValue = el("input", { "aria-label": "New input value", placeholder: "value or ${...}", list: choices,
    spellcheck: "false" });
  const addInput = el("form", { class: "add-input" }, newName, newValue, el("button", { type: "submit" }, "Add"));
  addInput.addEventListener("submit", (event) => {
    event.preventDefault();
    if (newName.value.trim()) {
      edit({ kind: "setInput", node: node.name, input: newName.value.trim(), value: literal(newValue.value) });
      newName.value = "";
      newValue.value = "";
    }
  });
  const source = node.source ? el("a", { href: "#", class: "source" }, node.source) : null;
  source?.addEventListener("click", (event) => {
    event.preventDefault();
    post({ type: "openSource", node: node.name });
  });
  return [
    el("h2", {}, "Node"),
    renameForm,
    field("type", node.type ?? "(none)"),
    source ? el("div", { class: "fact" }, el("span", { class: "label" }, "source"), source) : null,
    node.activate ? field("activate", `when ${display(node.activate.when)} is ${display(node.activate.is)}`) : null,
    node.aggregation ? field("aggregation", "runs once over all lines") : null,
    run ? el("div", { class: `last-run status-${run.status}` }, `Last run: ${ICONS[run.status] ?? ""} ${run.status}`
      + (run.durationMs !== undefined ? ` in ${formatDuration(run.durationMs)}` : ""), run.error
      ? el("div", { class: "run-error" }, run.error) : null) : null,
    problemList(listedProblems(message.problems[node.name], settings ? connectionHint(message.graph, node) : null)),
    ...(settings ? llmSection(message, node, settings, choices) : []),
    el("h3", {}, "Inputs"),
    el("datalist", { id: choices }, ...referenceChoices(message.graph, node.name).map((c) => el("option", { value: c }))),
    ...(names.length ? names.map((name) => inputRow(node, name, choices)) : [el("p", { class: "hint" }, "No inputs yet.")]),
    addInput,
    el("div", { class: "actions" },
      button("▶ Run node", () => post({ type: "runNode", node: node.name }), { "data-action": "run-node" }),
      button("Debug node", () => post({ type: "debugNode", node: node.name }), { "data-action": "debug-node" }),
      button("Show in text", () => post({ type: "reveal", id: node.name })),
      button("Delete node", () => post({ type: "remove", node: node.name, version: message.graph.version }),
        { class: "danger" })),
  ].filter((e): e is HTMLElement => e !== null);
}

function inspectorFor(message: GraphMessage): HTMLElement[] {
  const graph: FlowGraph = message.graph;
  const input = graph.inputs.find((i) => `inputs.${i.name}` === selected);
  if (input) {
    return [el("h2", {}, `Flow input ${input.name}`), field("type", input.type ?? "string"),
      field("default", display(input.default) || "(none)"), input.description ? field("description", input.description) : null,
      input.is_chat_history ? field("chat history", "yes") : null,
      el("div", { class: "actions" }, button("Show in text", () => post({ type: "reveal", id: `inputs.${input.name}` })))]
      .filter((e): e is HTMLElement => e !== null);
  }
  const output = graph.outputs.find((o) => `outputs.${o.name}` === selected);
  if (output) {
    return [el("h2", {}, `Flow output ${output.name}`), field("reference", output.reference ?? "(none)"),
      el("div", { class: "actions" }, button("Show in text", () => post({ type: "reveal", id: `outputs.${output.name}` })))];
  }
  const node = graph.nodes.find((n) => n.name === selected);
  if (node) {
    return nodeInspector(message, node);
  }
  return [el("h2", {}, "Flow"), el("p", { class: "hint" }, "Select a node to edit its inputs, rename, run or delete it. "
    + "Arrow keys move between boxes; double-click shows the element in the text."), problemList(message.problems[""])]
    .filter((e): e is HTMLElement => e !== null);
}

/** True while the user is typing in a part of the page (a redraw then would throw their text away). */
function typing(part: HTMLElement): boolean {
  const active = document.activeElement;
  return active instanceof HTMLInputElement && part.contains(active) && active.value !== (active.dataset.original ?? "");
}

function renderInspector(message: GraphMessage): void {
  const node = message.graph.nodes.find((n) => n.name === selected);
  const key = JSON.stringify([selected, message.graph.version, node ?? null, node ? message.runs[node.name] : null,
    message.problems[node?.name ?? ""] ?? null, message.graph.connections ?? null]);
  if (key === inspectorKey || typing(shell.inspector)) {
    return;
  }
  inspectorKey = key;
  // Fields with an id (inputs, pickers) keep the focus across the redraw.
  const active = document.activeElement;
  const focused = active instanceof HTMLElement && shell.inspector.contains(active) ? active.id : "";
  shell.inspector.replaceChildren(...inspectorFor(message));
  if (focused) {
    (shell.inspector.querySelector(`#${CSS.escape(focused)}`) as HTMLElement | null)?.focus();
  }
}

function render(): void {
  if (!current) {
    return;
  }
  renderToolbar(current);
  renderCanvas(current);
  renderInspector(current);
  const added = toReveal ? app.querySelector(`.box[data-id="${CSS.escape(toReveal)}"]`) : null;
  if (added) {
    added.scrollIntoView({ block: "nearest", inline: "nearest" });
    toReveal = null;
  }
}

window.addEventListener("message", (event: MessageEvent<ToFlowEditor>) => {
  const message = event.data;
  switch (message.type) {
    case "graph":
      current = message;
      shell.status.textContent = "";
      render();
      break;
    case "select":
      select(message.id, true);
      break;
    case "unavailable":
      shell.status.textContent = message.reason;
      break;
  }
});

post({ type: "ready" });
