/**
 * The visual editor's inspector: the details of the selected flow input, node or output, where a
 * node's inputs (an LLM node's connection, API, model and parameters too) are edited, and the node
 * renamed, run, debugged, shown in the text or deleted. Every change goes out as a message through
 * the host; the inspector never changes the text itself. DOM calls and textContent only.
 */

import type { FromFlowEditor, NodeProblem, ToFlowEditor } from "../src/editorMessages";
import { inputNameProblem, literal, nodeNameProblem, referenceChoices } from "../src/flowGraph";
import { sourceOf } from "../src/graphModel";
import { display } from "../src/inputs";
import { apiChoices, type Choice, connectionChoices, connectionHint, listedProblems, modelMissing, type ModelParameters,
  modelParameters, parameterValue, placeholderFor } from "../src/llmFields";
import type { FlowEdit, FlowGraph, GraphNode, LlmParameter } from "../src/protocol";
import { formatDuration } from "../src/runModel";
import { el, ICONS } from "./dom";

export type GraphMessage = Extract<ToFlowEditor, { type: "graph" }>;

/** What the inspector needs of the page. */
export interface InspectorHost {
  post(message: FromFlowEditor): void;
  edit(change: FlowEdit): void;
  /** Shows a sentence in the page's status line. */
  status(text: string): void;
  /** The selected element's id (`inputs.x`, a node name, `outputs.y`), if any. */
  selected(): string | null;
  /** A node is being renamed to `name`: the selection follows it. */
  renamed(name: string): void;
}

let host: InspectorHost;
let panel: HTMLElement;
let inspectorKey = "";

/** Sets the inspector up in `element` (once). */
export function mountInspector(element: HTMLElement, inspectorHost: InspectorHost): void {
  panel = element;
  host = inspectorHost;
}

export function button(label: string, action: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const element = el("button", { type: "button", ...attrs }, label);
  element.addEventListener("click", action);
  return element;
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
        host.edit({ kind: "clearInput", node: node.name, input: name });
      }
      return;
    }
    host.edit({ kind: "setInput", node: node.name, input: name, value: about.parse(value.value) });
  });
  const label = el("label", { for: id, ...tooltip }, name,
    about.type ? el("span", { class: "type" }, about.type) : null,
    about.required ? el("span", { class: "required" }, "required") : null);
  const clear = set ? button("×", () => host.edit({ kind: "clearInput", node: node.name, input: name }),
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
  select.addEventListener("change", () => host.edit({ kind: "setNodeField", node: node.name, field, value: select.value }));
  hint?.setAttribute("id", `${id}-hint`);
  return el("div", { class: "input-row" }, el("label", { for: id }, field), el("div", { class: "edit" }, select), hint);
}

/** An LLM node's model settings: its connection, API and model, the parameters it sets, a form to add one. */
function llmSection(message: GraphMessage, node: GraphNode, settings: ModelParameters, choices: string): HTMLElement[] {
  const hint = connectionHint(message.graph, node);
  const create = hint === null ? null : el("p", { class: "hint connection-hint" }, hint, " ",
    button("Create Connection...", () => host.post({ type: "createConnection" }), { "data-action": "create-connection" }));
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
      host.status(chosen ? `Give ${chosen.name} a value.` : "Choose a parameter to add.");
      (chosen ? value : parameter).focus();
      return;
    }
    host.edit({ kind: "setInput", node: node.name, input: chosen.name, value: parameterValue(chosen, value.value) });
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

/**
 * When the node runs: the aggregation switch (once over all lines, not per line) and its `activate` condition
 * (run when `when` is `is`, else bypassed). The language server refuses a switch or a condition that would
 * break the flow (a line node reading an aggregation node, a cycle), and the status line says why.
 */
function runsWhen(node: GraphNode, choices: string): HTMLElement[] {
  const aggregation = el("input", { type: "checkbox", id: "node-aggregation" });
  aggregation.checked = node.aggregation;
  aggregation.dataset.original = aggregation.value;  // not typing: a redraw may replace it
  aggregation.addEventListener("change", () => host.edit({ kind: "setNodeField", node: node.name, field: "aggregation",
    value: aggregation.checked ? true : null }));
  const when = el("input", { id: "activate-when", class: "value", list: choices, spellcheck: "false",
    placeholder: "${inputs.x} or ${node.output}", "aria-label": "Run only when this reference" });
  const is = el("input", { id: "activate-is", class: "value", spellcheck: "false", placeholder: "is this value",
    "aria-label": "is this value" });
  when.value = node.activate ? display(node.activate.when) : "";
  is.value = node.activate ? display(node.activate.is) : "";
  when.dataset.original = when.value;
  is.dataset.original = is.value;
  const form = el("form", { class: "activate-form" }, el("label", { for: "activate-when" }, "when"), when,
    el("label", { for: "activate-is" }, "is"), is, el("button", { type: "submit" }, "Set"),
    node.activate ? button("Remove", () => host.edit({ kind: "setNodeField", node: node.name, field: "activate",
      value: null }), { "data-action": "remove-activate" }) : null);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!/^\$\{[^}]+\}$/.test(when.value.trim())) {
      host.status("An activate condition needs a reference to test, such as ${inputs.x} or ${node.output}.");
      when.focus();
      return;
    }
    when.dataset.original = when.value;
    is.dataset.original = is.value;
    host.edit({ kind: "setNodeField", node: node.name, field: "activate",
      value: { when: when.value.trim(), is: literal(is.value) } });
  });
  return [
    el("h3", {}, "Runs"),
    el("label", { class: "check", title: "Runs once over all lines of a batch run, with every line's inputs as lists" },
      aggregation, " aggregation: once over all lines"),
    el("div", { class: "hint" }, "Activate: run only when a value is met, else the node is bypassed."),
    form,
  ];
}

function nodeInspector(message: GraphMessage, node: GraphNode): HTMLElement[] {
  const run = message.runs[node.name];
  const rename = el("input", { id: "node-rename", class: "rename", "aria-label": "Node name", spellcheck: "false" });
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
      host.status(problem);
      return;
    }
    rename.dataset.original = name;
    host.edit({ kind: "renameNode", name: node.name, newName: name });
    host.renamed(name);
  });
  const choices = `choices-${node.name}`;
  const settings = node.type === "llm" ? modelParameters(message.graph, node) : null;
  const model = new Set(settings ? [settings.model.name, ...settings.present.map((p) => p.name)] : []);
  const names = [...node.parameters.map((p) => p.name),
    ...Object.keys(node.inputs).filter((k) => !node.parameters.some((p) => p.name === k))]
    .filter((name) => !model.has(name));  // an LLM node's model settings have their own section
  const newName = el("input", { id: "new-input-name", "aria-label": "New input name", placeholder: "name",
    spellcheck: "false" });
  const newValue = el("input", { id: "new-input-value", "aria-label": "New input value", placeholder: "value or ${...}",
    list: choices, spellcheck: "false" });
  const addInput = el("form", { class: "add-input" }, newName, newValue, el("button", { type: "submit" }, "Add"));
  addInput.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = newName.value.trim();
    if (!input) {
      return;
    }
    const problem = inputNameProblem(node, input);
    if (problem) {
      host.status(problem);
      newName.focus();
      return;
    }
    host.edit({ kind: "setInput", node: node.name, input, value: literal(newValue.value) });
    newName.value = "";
    newValue.value = "";
  });
  const source = node.source ? el("a", { href: "#", class: "source" }, node.source) : null;
  source?.addEventListener("click", (event) => {
    event.preventDefault();
    host.post({ type: "openSource", node: node.name, ...sourceOf(node) });
  });
  return [
    el("h2", {}, "Node"),
    renameForm,
    field("type", node.type ?? "(none)"),
    source ? el("div", { class: "fact" }, el("span", { class: "label" }, "source"), source) : null,
    run ? el("div", { class: `last-run status-${run.status}` }, `Last run: ${ICONS[run.status] ?? ""} ${run.status}`
      + (run.durationMs !== undefined ? ` in ${formatDuration(run.durationMs)}` : ""), run.error
      ? el("div", { class: "run-error" }, run.error) : null) : null,
    problemList(listedProblems(message.problems[node.name], settings ? connectionHint(message.graph, node) : null)),
    ...(settings ? llmSection(message, node, settings, choices) : []),
    el("h3", {}, "Inputs"),
    el("datalist", { id: choices }, ...referenceChoices(message.graph, node.name).map((c) => el("option", { value: c }))),
    ...(names.length ? names.map((name) => inputRow(node, name, choices)) : [el("p", { class: "hint" }, "No inputs yet.")]),
    addInput,
    ...runsWhen(node, choices),
    el("div", { class: "actions" },
      button("▶ Run node", () => host.post({ type: "runNode", node: node.name }), { "data-action": "run-node" }),
      button("Debug node", () => host.post({ type: "debugNode", node: node.name }), { "data-action": "debug-node" }),
      button("Show in text", () => host.post({ type: "reveal", id: node.name }), { "data-action": "show-in-text" }),
      button("Delete node", () => host.post({ type: "remove", node: node.name, version: message.graph.version }),
        { class: "danger" })),
  ].filter((e): e is HTMLElement => e !== null);
}

function inspectorFor(message: GraphMessage): HTMLElement[] {
  const graph: FlowGraph = message.graph;
  const input = graph.inputs.find((i) => `inputs.${i.name}` === host.selected());
  if (input) {
    return [el("h2", {}, `Flow input ${input.name}`), field("type", input.type ?? "string"),
      field("default", display(input.default) || "(none)"), input.description ? field("description", input.description) : null,
      input.is_chat_history ? field("chat history", "yes") : null,
      el("div", { class: "actions" }, button("Show in text", () => host.post({ type: "reveal", id: `inputs.${input.name}` })))]
      .filter((e): e is HTMLElement => e !== null);
  }
  const output = graph.outputs.find((o) => `outputs.${o.name}` === host.selected());
  if (output) {
    return [el("h2", {}, `Flow output ${output.name}`), field("reference", output.reference ?? "(none)"),
      el("div", { class: "actions" }, button("Show in text", () => host.post({ type: "reveal", id: `outputs.${output.name}` })))];
  }
  const node = graph.nodes.find((n) => n.name === host.selected());
  if (node) {
    return nodeInspector(message, node);
  }
  return [el("h2", {}, "Flow"), el("p", { class: "hint" }, "Select a node to edit its inputs, rename, run or delete it. "
    + "Arrow keys move between nodes, Enter opens one here; double-click opens its tool file; Ctrl+F finds a node."), problemList(message.problems[""])]
    .filter((e): e is HTMLElement => e !== null);
}

/** True while the user is typing in a part of the page (a redraw then would throw their text away). */
export function typing(part: HTMLElement): boolean {
  const active = document.activeElement;
  return active instanceof HTMLInputElement && part.contains(active) && active.value !== (active.dataset.original ?? "");
}

export function renderInspector(message: GraphMessage): void {
  const node = message.graph.nodes.find((n) => n.name === host.selected());
  const key = JSON.stringify([host.selected(), message.graph.version, node ?? null, node ? message.runs[node.name] : null,
    message.problems[node?.name ?? ""] ?? null, message.graph.connections ?? null]);
  if (key === inspectorKey || typing(panel)) {
    return;
  }
  inspectorKey = key;
  // Fields with an id (inputs, pickers) keep the focus across the redraw.
  const active = document.activeElement;
  const focused = active instanceof HTMLElement && panel.contains(active) ? active.id : "";
  panel.replaceChildren(...inspectorFor(message));
  if (focused) {
    (panel.querySelector(`#${CSS.escape(focused)}`) as HTMLElement | null)?.focus();
  }
}
