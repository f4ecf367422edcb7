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
import { columnMappingPairs, DATA_EXTENSIONS, dataColumns, runCreateArgs, runName, variantChoices } from "./batchMapping";
import { batchOutcome, completedProblem, failedProcessOutcome, failureReason, type LineDetail, type Outcome,
  processFailure, readRunRecord, type RunRecordSummary } from "./batchOutcome";
import { pickMapping, pickVariant } from "./batchPicks";
import { CREATE_CONNECTION, defaultName, diagnosticCode, type InitResult, initNotice, type MissingConnection,
  missingConnections, requestedConnection, typeItems, UNKNOWN_CONNECTION } from "./connections";
import type { FlowlineDebug } from "./debug";
import { nodeAtLine } from "./flowGraph";
import type { BatchRun } from "./messages";
import { type FlowlineServer, ProcessError } from "./python";
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
export function flowUri(argument: unknown): string | undefined {
  if (typeof argument === "string" && argument) {
    return argument;
  }
  if (argument instanceof vscode.Uri) {
    return argument.toString();
  }
  const document = vscode.window.activeTextEditor?.document;
  return document && isFlowFile(document.uri.fsPath) ? document.uri.toString() : undefined;
}

/** A stored run as `run create` and `run show` print it (the fields the batch command reads). */
type StoredRun = RunRecordSummary & { folder: string };

/** Tells the user that a command needs a flow open; undefined (what the command then answers). */
export function noFlow(): undefined {
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
   * Runs the flow over a data file: the user maps each input to a column, a literal or its default
   * (pre-filled by name, see batchMapping.ts) and picks a variant; `flowline.run.workers` lines run
   * at once. Then the run's report, the run panel's batch list and a message with its line counts.
   */
  async runBatch(argument: unknown): Promise<void> {
    const uri = flowUri(argument);
    if (!uri) {
      noFlow();
      return;
    }
    const folder = path.dirname(vscode.Uri.parse(uri).fsPath);
    const data = await vscode.window.showOpenDialog({ defaultUri: vscode.Uri.file(folder), canSelectMany: false,
      filters: { "Data (JSON Lines, JSON, CSV, TSV)": DATA_EXTENSIONS }, title: "Data for the batch run" });
    if (!data?.length) {
      return;
    }
    const file = data[0].fsPath;
    await this.report(async () => {
      const columns = dataColumns(file, await fs.promises.readFile(file, "utf-8"));
      const graph = await this.runs.graph(uri);
      const mapping = await pickMapping(graph.inputs, columns, path.basename(file));
      if (!mapping) {
        return;
      }
      const picked = await pickVariant(variantChoices(graph.nodes));
      if (picked === undefined) {
        return;
      }
      const variant = picked ?? undefined;  // null: the default variants, no --variant
      await this.beforeRun(uri);
      const workers = readSettings(vscode.Uri.parse(uri)).workers;
      const name = runName(path.basename(folder), variant, new Date());
      const args = runCreateArgs({ flow: folder, data: file, name, workers, variant,
        pairs: columnMappingPairs(graph.inputs, mapping) });
      this.log.info(`Batch run: flowline ${args.join(" ")}`);
      const ended = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification,
        title: `Flowline: running ${path.basename(folder)} over ${path.basename(file)} (${workers} at once)` },
      () => this.server.flowline(args, folder)).then((stdout) => ({ stdout, error: undefined as unknown }),
        (error: unknown) => ({ stdout: "", error }));
      const printed = readRunRecord(ended.stdout) as StoredRun | undefined;
      // A killed process (or one that printed no record) is told apart from the CLI's own answers.
      const failure = ended.error === undefined ? processFailure(undefined, printed !== undefined)
        : ended.error instanceof ProcessError ? processFailure(ended.error.end, false) : undefined;
      const record = printed ?? await this.storedRun(name);
      await this.panel.refreshBatches();
      if (record) {
        await this.showReport([record.name]);
      }
      const outcome = await this.batchEnd(name, failure, record, ended.error);
      if (outcome.failed) {
        this.log.error(outcome.message);
        void vscode.window.showErrorMessage(outcome.message);
      } else {
        void vscode.window.showInformationMessage(outcome.message);
      }
    });
  }

  /**
   * How a batch ended: from how its process failed (`failure`, see `processFailure`), else from its
   * record; `error` again when there is neither (the CLI refused the run; its last line says why).
   */
  private async batchEnd(name: string, failure: string | undefined, record: StoredRun | undefined, error: unknown)
    : Promise<Outcome> {
    if (failure !== undefined) {
      return failedProcessOutcome(name, failure, record);
    }
    if (!record) {
      throw error;
    }
    return batchOutcome(record, await this.failureReason(record));
  }

  /** The stored record of run `name`; undefined when it was never stored (it did not start). */
  private async storedRun(name: string): Promise<StoredRun | undefined> {
    return readRunRecord(await this.server.flowline(["run", "show", "--name", name]).catch(() => "")) as
      StoredRun | undefined;
  }

  /**
   * Why a stored run failed, or what went wrong in a Completed one (undefined when nothing did): its
   * first line's error, or its aggregation's (from the run folder's logs.txt).
   */
  private async failureReason(record: StoredRun): Promise<string | undefined> {
    const [first] = record.lines_completed === 0
      ? JSON.parse(await this.server.flowline(["run", "show-details", "--name", record.name, "--json",
        "--max-results", "1"])) as LineDetail[]
      : [];
    const logs = await fs.promises.readFile(path.join(record.folder, "logs.txt"), "utf-8").catch(() => "");
    return record.status === "Completed" ? completedProblem(record, first, logs) : failureReason(record, first, logs);
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
      // `flow init` names a stored connection in the flow's LLM nodes; --json says whether it could.
      const made = JSON.parse(await this.server.flowline(["flow", "init", "--flow", name, "--type", kind.label,
        "--json"])) as InitResult;
      await vscode.window.showTextDocument(vscode.Uri.file(path.join(name, "flow.dag.yaml")));
      const notice = initNotice(made);
      if (notice) {
        void vscode.window.showWarningMessage(`Flowline: ${notice}`, CREATE_CONNECTION).then((choice) =>
          choice === CREATE_CONNECTION ? this.createConnection() : undefined);
      }
    });
  }

  /**
   * Stores a connection the user describes. When the flow in the active editor (text or visual) names
   * connections that are not stored (the server's `unknown-connection` diagnostics), the first one is
   * proposed, with the type its node wants; several are offered in a quick pick first. A name given as
   * the argument (the quick fix of an `unknown-connection` diagnostic) is the one proposed.
   */
  async createConnection(requested?: unknown): Promise<void> {
    // The visual editor is a custom editor: no active text editor then, but its tab has the flow's URI.
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const active = vscode.window.activeTextEditor?.document.uri
      ?? (tab instanceof vscode.TabInputCustom || tab instanceof vscode.TabInputText ? tab.uri : undefined);
    const flow = active && isFlowFile(active.fsPath)
      ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === active.toString()) : undefined;
    const uses = flow ? vscode.languages.getDiagnostics(flow.uri)
      .filter((d) => diagnosticCode(d.code) === UNKNOWN_CONNECTION)
      .map((d) => ({ text: flow.getText(d.range), line: d.range.start.line })) : [];
    const nodes = flow && uses.length ? await this.runs.graph(flow.uri.toString()).then((g) => g.nodes, () => []) : [];
    const missing = missingConnections(uses, nodes);
    const named = requestedConnection(requested, missing);
    let proposed: MissingConnection | undefined = named ?? missing[0];
    if (!named && missing.length > 1) {
      const picked = await vscode.window.showQuickPick([
        ...missing.map((m) => ({ label: m.name, description: `named in the flow, not stored (${m.type})`, proposed: m })),
        { label: "Another name…", description: "", proposed: undefined },
      ], { title: "Flowline: create a connection", placeHolder: "A connection the flow names but the store lacks" });
      if (!picked) {
        return;
      }
      proposed = picked.proposed;
    }
    const type = await vscode.window.showQuickPick(typeItems(proposed?.type ?? "open_ai"),
      { title: "Flowline: create a connection", placeHolder: "Type" });
    if (!type) {
      return;
    }
    const name = await vscode.window.showInputBox({ title: "Connection name (flows write it in 'connection:')",
      value: proposed?.name ?? defaultName(type.label),
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
    const key = await vscode.window.showInputBox({ title: "API key (stored encrypted; never shown again)", password: true,
      validateInput: (value) => value.trim() ? null
        : "A key is needed; for a local server that checks none, any text will do (for example 'none')." });
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
