/**
 * The extension's commands. The language server owns `flowline.runFlow`, `flowline.runNode` and
 * `flowline.cancelRun` (vscode-languageclient registers them from the server's capabilities); the
 * middleware below sends them through `Runs`, so code lenses, the palette and keybindings all get
 * the remembered inputs, the run panel and the inline results.
 */

import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import type { FlowlineDebug } from "./debug";
import { nodeAtLine } from "./flowGraph";
import type { BatchRun } from "./messages";
import type { FlowlineServer } from "./python";
import { reportError } from "./report";
import type { RunPanel } from "./runPanel";
import type { Runs } from "./runs";
import { readSettings, SECTION } from "./settings";

const FLOW_FILE = /[\\/]flow\.dag\.ya?ml$/;

/** True for a flow.dag.yaml (or .yml) path. */
export function isFlowFile(path: string): boolean {
  return FLOW_FILE.test(path);
}

/** The flow a command applies to: its argument, else the active editor's flow.dag.yaml. */
function flowUri(argument: unknown): string | undefined {
  if (typeof argument === "string" && argument) {
    return argument;
  }
  if (argument instanceof vscode.Uri) {
    return argument.toString();
  }
  const document = vscode.window.activeTextEditor?.document;
  return document && isFlowFile(document.uri.fsPath) ? document.uri.toString() : undefined;
}

function noFlow(): undefined {
  void vscode.window.showWarningMessage("Open a flow.dag.yaml first (Flowline runs the flow of the active editor).");
  return undefined;
}

export class Commands {
  constructor(private readonly server: FlowlineServer, private readonly runs: Runs, private readonly panel: RunPanel,
              private readonly debug: FlowlineDebug, private readonly log: vscode.LogOutputChannel) {}

  /** Routes the server's commands (run, run node, cancel) through the extension (client middleware). */
  route(command: string, args: unknown[], next: (command: string, args: unknown[]) => unknown): unknown {
    switch (command) {
      case "flowline.runFlow":
        return this.runFlow(args[0], args[1]);
      case "flowline.runNode":
        return this.runNode(args[0], args[1]);
      case "flowline.cancelRun":
        return this.cancel(args[0]);
      default:
        return next(command, args);
    }
  }

  private async report<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      reportError(this.log, error);
      return undefined;
    }
  }

  private async beforeRun(uri: string): Promise<void> {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    if (document?.isDirty) {
      await document.save();  // the run reads the flow from disk
    }
    if (readSettings(vscode.Uri.parse(uri)).revealPanel) {
      await this.panel.reveal();
    }
    await this.panel.select(uri);
  }

  async runFlow(argument: unknown, values?: unknown): Promise<unknown> {
    const uri = flowUri(argument);
    if (!uri) {
      return noFlow();
    }
    return this.report(async () => {
      await this.beforeRun(uri);
      const given = typeof values === "object" && values !== null ? values as Record<string, unknown> : undefined;
      return this.runs.runFlow(uri, given);
    });
  }

  async runNode(argument: unknown, node: unknown): Promise<unknown> {
    const uri = flowUri(argument);
    if (!uri) {
      return noFlow();
    }
    return this.report(async () => {
      const name = await this.targetNode(uri, node, "Run node");
      if (!name) {
        return undefined;
      }
      await this.beforeRun(uri);
      return this.runs.runNode(uri, name);
    });
  }

  /** The node a command is for: its argument, else the node at the cursor (with a hint when neither). */
  private async targetNode(uri: string, node: unknown, lens: string): Promise<string | undefined> {
    const name = typeof node === "string" && node ? node : await this.nodeAtCursor(uri);
    if (!name) {
      void vscode.window.showWarningMessage(`Put the cursor inside a node (or use the ${lens} code lens).`);
    }
    return name;
  }

  private async nodeAtCursor(uri: string): Promise<string | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.toString() !== uri) {
      return undefined;
    }
    return nodeAtLine((await this.runs.graph(uri)).nodes, editor.selection.active.line);
  }

  /** Debugs the whole flow: it runs under debugpy, its events stream into the run panel. */
  async debugFlow(argument: unknown): Promise<void> {
    const uri = flowUri(argument);
    if (!uri) {
      noFlow();
      return;
    }
    await this.report(async () => {
      await this.beforeRun(uri);
      await this.debug.start(uri);
    });
  }

  /** Debugs one node (the code lens's, else the node at the cursor) with the inputs a run would get. */
  async debugNode(argument: unknown, node: unknown): Promise<void> {
    const uri = flowUri(argument);
    if (!uri) {
      noFlow();
      return;
    }
    await this.report(async () => {
      const name = await this.targetNode(uri, node, "Debug node");
      if (name) {
        await this.beforeRun(uri);
        await this.debug.start(uri, name);
      }
    });
  }

  async cancel(argument: unknown): Promise<void> {
    const ids = typeof argument === "string" ? [argument] : [...this.runs.running];
    await this.report(async () => {
      for (const id of ids) {
        await this.runs.cancel(id);
      }
    });
  }

  /**
   * Runs the flow over a data file (each input reads the column of its name) with
   * `flowline.run.workers` lines at once, then shows the run's report.
   */
  async runBatch(argument: unknown): Promise<void> {
    const uri = flowUri(argument);
    if (!uri) {
      noFlow();
      return;
    }
    const folder = path.dirname(vscode.Uri.parse(uri).fsPath);
    const data = await vscode.window.showOpenDialog({ defaultUri: vscode.Uri.file(folder), canSelectMany: false,
      filters: { "Data (JSON Lines, JSON, CSV, TSV)": ["jsonl", "json", "csv", "tsv"] }, title: "Data for the batch run" });
    if (!data?.length) {
      return;
    }
    const workers = readSettings(vscode.Uri.parse(uri)).workers;
    await this.report(async () => {
      const record = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification,
        title: `Flowline: running ${path.basename(folder)} over ${path.basename(data[0].fsPath)} (${workers} at once)` },
      () => this.server.flowline(["run", "create", "--flow", folder, "--data", data[0].fsPath, "--workers", String(workers)], folder));
      const run = JSON.parse(record) as { name: string; status: string };
      void vscode.window.showInformationMessage(`Batch run ${run.name}: ${run.status}.`);
      await this.panel.refreshBatches();
      await this.showReport([run.name]);
    });
  }

  async createFlow(): Promise<void> {
    const kind = await vscode.window.showQuickPick([
      { label: "standard", description: "inputs → a prompt → a Python tool → outputs" },
      { label: "chat", description: "a chat flow with history and an LLM node" },
      { label: "evaluation", description: "grades another run's outputs and logs metrics" },
    ], { title: "Flowline: create a flow", placeHolder: "Template" });
    if (!kind) {
      return;
    }
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
    const name = await vscode.window.showInputBox({ title: "Folder of the new flow", value: path.join(base, `my-${kind.label}-flow`),
      validateInput: (value) => fs.existsSync(path.join(value, "flow.dag.yaml")) ? "A flow already exists there." : null });
    if (!name) {
      return;
    }
    await this.report(async () => {
      await this.server.flowline(["flow", "init", "--flow", name, "--type", kind.label]);
      await vscode.window.showTextDocument(vscode.Uri.file(path.join(name, "flow.dag.yaml")));
    });
  }

  async createConnection(): Promise<void> {
    const type = await vscode.window.showQuickPick([
      { label: "open_ai", description: "OpenAI, or any OpenAI-compatible server (llama.cpp, vLLM, Ollama…)" },
      { label: "azure_open_ai", description: "Azure OpenAI" },
    ], { title: "Flowline: create a connection", placeHolder: "Type" });
    if (!type) {
      return;
    }
    const name = await vscode.window.showInputBox({ title: "Connection name (flows write it in 'connection:')",
      value: type.label === "open_ai" ? "openai" : "azure",
      validateInput: (v) => /^[A-Za-z0-9_.-]+$/.test(v) ? null : "Letters, digits, '_', '.' and '-' only." });
    if (!name) {
      return;
    }
    const endpoint = await vscode.window.showInputBox({
      title: type.label === "open_ai" ? "Base URL (empty: https://api.openai.com/v1)" : "Endpoint (https://<resource>.openai.azure.com/)",
      value: type.label === "open_ai" ? "" : "https://" });
    if (endpoint === undefined) {
      return;
    }
    const key = await vscode.window.showInputBox({ title: "API key (stored encrypted; never shown again)", password: true });
    if (key === undefined) {
      return;
    }
    await this.report(async () => {
      const lines = [`name: ${name}`, `type: ${type.label}`, `api_key: ${JSON.stringify(key)}`];
      if (endpoint) {
        lines.push(type.label === "open_ai" ? `base_url: ${JSON.stringify(endpoint)}` : `api_base: ${JSON.stringify(endpoint)}`);
      }
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), "flowline-connection-"));
      const file = path.join(folder, "connection.yaml");
      fs.writeFileSync(file, lines.join("\n") + "\n", { mode: 0o600 });
      try {
        await this.server.flowline(["connection", "create", "--file", file]);
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
      void vscode.window.showInformationMessage(`Connection '${name}' saved; use it as 'connection: ${name}'.`);
    });
  }

  async selectInterpreter(): Promise<void> {
    const current = this.server.interpreter;
    const picked = await vscode.window.showQuickPick([
      { label: "$(folder-opened) Browse…", id: "browse" },
      { label: "$(discard) Find automatically", id: "auto",
        description: "setting empty: the Python extension, .venv, python3" },
    ], { title: "Python for Flowline", placeHolder: current ? `Now: ${current.path} (${current.version})` : "None found yet" });
    if (!picked) {
      return;
    }
    let value = "";
    if (picked.id === "browse") {
      const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, title: "Python interpreter" });
      if (!chosen?.length) {
        return;
      }
      value = chosen[0].fsPath;
    }
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration(SECTION).update("python.interpreterPath", value, target);
  }

  /** The stored batch and evaluation runs, newest first. */
  async listRuns(): Promise<BatchRun[]> {
    return JSON.parse(await this.server.flowline(["run", "list", "--max-results", "50"])) as BatchRun[];
  }

  private async pickRuns(many: boolean): Promise<string[]> {
    const listed = await this.listRuns();
    if (!listed.length) {
      void vscode.window.showInformationMessage("No stored runs yet: `flowline run create` makes one.");
      return [];
    }
    const items = listed.map((r) => ({ label: r.name, description: r.status,
      detail: [r.flow, r.created, r.metrics && Object.keys(r.metrics).length ? JSON.stringify(r.metrics) : ""]
        .filter(Boolean).join(" · ") }));
    if (many) {
      const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: "Runs to compare" });
      return (picked ?? []).map((p) => p.label);
    }
    const picked = await vscode.window.showQuickPick(items, { title: "Run to show" });
    return picked ? [picked.label] : [];
  }

  /** Opens the HTML report of stored runs (metrics side by side, lines, differences). */
  async showReport(names: string[]): Promise<void> {
    const file = path.join(os.tmpdir(), `flowline-report-${Date.now()}.html`);
    await this.server.flowline(["run", "visualize", "--names", names.join(","), "--html-path", file]);
    const panel = vscode.window.createWebviewPanel("flowline.report", `Runs: ${names.join(", ")}`,
      vscode.ViewColumn.Active, { enableScripts: false });
    panel.webview.html = fs.readFileSync(file, "utf-8");
    fs.rmSync(file, { force: true });
  }

  async showRun(): Promise<void> {
    await this.report(async () => {
      const names = await this.pickRuns(false);
      if (names.length) {
        await this.showReport(names);
      }
    });
  }

  async compareRuns(): Promise<void> {
    await this.report(async () => {
      const names = await this.pickRuns(true);
      if (names.length) {
        await this.showReport(names);
      }
    });
  }
}
