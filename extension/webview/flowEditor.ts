/**
 * The visual editor's page: wires the extension's messages, the page's state (kept across reloads by
 * VS Code: selection, viewport, layout), the toolbar with its palette, the graph surface
 * (graphView.tsx, React Flow laid out by ELK in a worker) and the inspector (inspector.ts). Every
 * change is posted to the extension as a `flowline.editFlow` edit; the page never changes the text.
 */

import type { Viewport } from "@xyflow/react";
import type { FromFlowEditor, ToFlowEditor } from "../src/editorMessages";
import { addNodeEdit, nodeKinds, nodeNameProblem } from "../src/flowGraph";
import { connectVerdict } from "../src/graphConnect";
import { dropPosition, layoutKey, type Placement, type Point } from "../src/graphLayout";
import { type GraphView, nextVariantId, NODE_WIDTH, sourceOf, toGraphView } from "../src/graphModel";
import type { FlowEdit } from "../src/protocol";
import { el, type VsCodeApi } from "./dom";
import { layOut, startElk } from "./elkLayout";
import { type GraphCallbacks, mountGraph, PALETTE_TYPE } from "./graphView";
import { button, type GraphMessage, mountInspector, renderInspector, typing } from "./inspector";

declare function acquireVsCodeApi(): VsCodeApi<FromFlowEditor>;

/** What VS Code keeps for the page while it is hidden or reloaded. */
interface SavedState {
  selected?: string | null;
  viewport?: Viewport;
  inspectorOpen?: boolean;
  viewed?: Record<string, string>;
  layout?: { key: string; positions: [string, Point][]; routes: [string, Point[]][] };
}

const vscode = acquireVsCodeApi();
const saved: SavedState = (vscode.getState() ?? {}) as SavedState;
const app = document.getElementById("app") as HTMLElement;
startElk();

let selected: string | null = saved.selected ?? null;
let viewed: Record<string, string> = saved.viewed ?? {};
let current: GraphMessage | undefined;
let view: GraphView | undefined;
let placement: Placement | undefined = saved.layout ? { positions: new Map(saved.layout.positions),
  routes: new Map(saved.layout.routes) } : undefined;
let placedKey = saved.layout?.key ?? "";
let viewport: Viewport | null = saved.viewport ?? null;
let fit = 0;
let center: { id: string; at: number } | null = null;
let layouts = 0;
/** Where nodes dropped from the palette go once the graph has them. */
const dropped = new Map<string, Point>();

function save(): void {
  vscode.setState({ selected, viewport: viewport ?? undefined, inspectorOpen: !shell.inspector.classList.contains("collapsed"),
    viewed, layout: placement ? { key: placedKey, positions: [...placement.positions], routes: [...placement.routes] }
      : undefined } satisfies SavedState);
}

function post(message: FromFlowEditor): void {
  vscode.postMessage(message);
}

function edit(change: FlowEdit): void {
  post({ type: "edit", edit: change, version: current?.graph.version ?? null });
}

function status(text: string): void {
  shell.status.textContent = text;
}

const shell = {
  toolbar: el("div", { class: "toolbar", role: "toolbar", "aria-label": "Flow" }),
  graph: el("div", { class: "graph-host" }),
  inspector: el("aside", { class: "inspector", "aria-label": "Details of the selected element" }),
  details: el("div", { class: "inspector-body" }),
  status: el("div", { class: "status", role: "status" }),
};
const toggle = button("⟩", () => openInspector(shell.inspector.classList.contains("collapsed")),
  { class: "icon inspector-toggle", "data-action": "toggle-inspector", title: "Show or hide the inspector",
    "aria-label": "Show or hide the inspector" });
shell.inspector.append(toggle, shell.details);
if (saved.inspectorOpen === false) {
  shell.inspector.classList.add("collapsed");
}
app.append(shell.toolbar, el("div", { class: "main" }, shell.graph, shell.inspector), shell.status);
const graph = mountGraph(shell.graph);

function openInspector(open: boolean): void {
  shell.inspector.classList.toggle("collapsed", !open);
  toggle.textContent = open ? "⟩" : "⟨";
  save();
}

function select(id: string | null): void {
  if (id === selected) {
    return;
  }
  selected = id;
  save();
  render();
}

mountInspector(shell.details, { post, edit, status, selected: () => selected, renamed(name) {
  selected = name;
  save();
} });

/** A free name for a node dropped from the palette: the name typed in the toolbar, else `<kind>_<n>`. */
function droppedName(message: GraphMessage, kind: string): string | null {
  const field = shell.toolbar.querySelector<HTMLInputElement>("input[name='node-name']");
  const typed = field?.value.trim() ?? "";
  if (field && typed) {
    const problem = nodeNameProblem(message.graph, typed);
    if (problem) {
      status(problem);
      return null;
    }
    field.value = "";  // used: the next drop takes a name of its own
    return typed;
  }
  const base = (kind.startsWith("package:") ? kind.slice(kind.lastIndexOf(".") + 1) : kind).toLowerCase()
    .replace(/[^a-z0-9_]/g, "_");
  let index = 1;
  while (message.graph.nodes.some((n) => n.name === `${base}_${index}`)) {
    index += 1;
  }
  return `${base}_${index}`;
}

const callbacks: GraphCallbacks = {
  select,
  reveal: (id) => post({ type: "reveal", id, preserveFocus: true }),
  openSource(id) {
    const node = current?.graph.nodes.find((n) => n.name === id);
    post({ type: "openSource", node: id, ...node ? sourceOf(node, viewed[id]) : null });
  },
  openInspector(id) {
    select(id);
    openInspector(true);
  },
  remove: (id) => post({ type: "remove", node: id, version: current?.graph.version ?? null }),
  clearEdge(edge) {
    if (edge.target.startsWith("outputs.")) {
      status(`An output's reference is set in the text: Show text, then edit ${edge.target}'s reference.`);
    } else if (edge.data?.activate) {
      status(`'${edge.target}'s activate condition is removed in the inspector (Remove).`);
    } else if (edge.data) {
      edit({ kind: "clearInput", node: edge.target, input: edge.data.port });
    }
  },
  refusal(connection) {
    if (!current) {
      return "The flow is not loaded yet.";
    }
    const verdict = connectVerdict(current.graph, connection.source, connection.target, connection.targetHandle);
    return verdict.ok ? null : verdict.reason;
  },
  connect(connection) {
    if (!current) {
      return;
    }
    const verdict = connectVerdict(current.graph, connection.source, connection.target, connection.targetHandle);
    if (verdict.ok) {
      status("");
      edit(verdict.edit);
    } else {
      status(verdict.reason);
    }
  },
  refused: status,
  moved(next) {
    viewport = next;
    save();
  },
  dragged(id, position) {
    placement?.positions.set(id, position);
    save();
  },
  dropped(kind, at) {
    if (!current) {
      return;
    }
    const name = droppedName(current, kind);
    if (name) {
      dropped.set(name, dropPosition(at, NODE_WIDTH, 80));
      edit(addNodeEdit(current.graph, name, kind));
      selected = name;
      save();
    }
  },
  viewVariant(node, variant) {
    viewed = { ...viewed, [node]: variant };
    save();
    if (current) {
      show(current);
    }
  },
  setDefaultVariant: (node, variant) => edit({ kind: "setDefaultVariant", node, variant }),
  addVariant(node) {
    const found = current?.graph.nodes.find((n) => n.name === node);
    if (found) {
      edit({ kind: "addVariant", node, variant: nextVariantId(found) });
    }
  },
};

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
  // The field or button that had the keyboard keeps it across the redraw (its name or action names it).
  const active = document.activeElement;
  const focused = active instanceof HTMLElement && shell.toolbar.contains(active)
    ? active.getAttribute("name") ?? active.dataset.action ?? "" : "";
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
      status(problem);
      name.focus();
      return;
    }
    edit(addNodeEdit(message.graph, name.value.trim(), type.value));
    selected = name.value.trim();
    center = { id: selected, at: Date.now() };
    save();
    name.value = "";
  });
  const palette = el("div", { class: "palette", role: "list", "aria-label": "Drag a node onto the graph" },
    ...kinds.map((k) => {
      const item = el("span", { class: "palette-item", role: "listitem", draggable: "true", "data-kind": k.value,
        title: `Drag onto the graph to add a ${k.label} node there` }, k.group === "Code" ? k.label : k.label.split(" (")[0]);
      item.addEventListener("dragstart", (event) => {
        event.dataTransfer?.setData(PALETTE_TYPE, k.value);
        if (event.dataTransfer) {
          event.dataTransfer.effectAllowed = "copy";
        }
      });
      return item;
    }));
  const count = message.graph.nodes.length;
  // Two groups, each on one line: in a narrow editor column the toolbar takes two lines, not five.
  shell.toolbar.replaceChildren(
    el("div", { class: "toolbar-actions" },
      el("strong", { class: "title" }, message.name),
      el("span", { class: "meta" }, `${count} node${count === 1 ? "" : "s"}${message.running ? " · running" : ""}`),
      button("▶ Run flow", () => post({ type: "runFlow" }), { class: "primary", "data-action": "run-flow" }),
      button("Debug flow", () => post({ type: "debugFlow" }), { "data-action": "debug-flow" }),
      ...(chat ? [button("Chat", () => post({ type: "openChat" }), { "data-action": "open-chat",
        title: "Chat with the flow in a panel beside it" })] : []),
      button("Auto layout", () => void autoLayout(), { "data-action": "auto-layout", title: "Lay the graph out afresh" }),
      button("Fit", () => {
        fit += 1;
        render();
      }, { "data-action": "fit", title: "Fit the whole graph in the view" }),
      button("Show text", () => post({ type: "reveal", id: selected ?? "" }), { "data-action": "show-text" })),
    el("div", { class: "toolbar-add" }, palette, add),
  );
  if (focused) {
    shell.toolbar.querySelector<HTMLElement>(`[name="${focused}"], [data-action="${focused}"]`)?.focus();
  }
}

function render(): void {
  if (!current || !view || !placement) {
    return;
  }
  renderToolbar(current);
  graph.render({ view, placement, selected, viewport, fit, center, callbacks }, callbacks);
  renderInspector(current);
}

/** Lays the view out (afresh, or keeping the nodes of `from` in place) unless a newer graph came meanwhile. */
async function place(next: GraphView, from: Placement | undefined, key: string): Promise<void> {
  const ticket = ++layouts;
  const started = performance.now();
  let result: Placement;
  try {
    result = await layOut(next, from);
  } catch (error) {
    status(`The layout failed: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  if (ticket !== layouts) {
    return;
  }
  for (const [name, at] of dropped) {
    if (result.positions.has(name)) {
      result.positions.set(name, at);
      dropped.delete(name);
    }
  }
  const first = placement === undefined;
  placement = result;
  placedKey = key;
  document.body.dataset.layoutMs = String(Math.round(performance.now() - started));
  if (first && !viewport) {
    fit += 1;
  }
  save();
  render();
}

async function autoLayout(): Promise<void> {
  if (view) {
    await place(view, undefined, layoutKey(view));
    fit += 1;
    render();
  }
}

/** Draws a graph message: again at once when only values or statuses changed, after a layout otherwise. */
function show(message: GraphMessage): void {
  view = toGraphView(message, viewed);
  const key = layoutKey(view);
  if (placement && key === placedKey) {
    render();
  } else {
    void place(view, placement, key);
  }
}

window.addEventListener("message", (event: MessageEvent<ToFlowEditor>) => {
  const message = event.data;
  switch (message.type) {
    case "graph":
      current = message;
      status("");
      show(message);
      break;
    case "select":
      selected = message.id;
      center = { id: message.id, at: Date.now() };
      save();
      render();
      break;
    case "unavailable":
      status(message.reason);
      break;
  }
});

post({ type: "ready" });
