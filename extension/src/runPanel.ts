/**
 * The run panel: a webview view in the panel area that shows the workspace's runs as they stream
 * (flow → nodes with status, duration, tokens; details of each node), a form for the flow's inputs,
 * a form for the values a node run lacks, re-run and cancel. The webview renders the last `state`
 * message; it asks for everything else.
 */

import * as vscode from "vscode";
import type { BatchRun, FlowForm, FromWebview, ToWebview } from "./messages";
import type { Runs } from "./runs";
import { webviewHtml } from "./webviewHtml";

export const VIEW_ID = "flowline.runPanel";
/** How long changes gather before the panel gets the state (a run printing thousands of lines). */
const POST_DELAY_MS = 40;

/** What the panel asks of the rest of the extension for stored batch runs. */
export interface BatchSource {
  list(): Promise<BatchRun[]>;
  report(names: string[]): Promise<void>;
}

export class RunPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly forms = new Map<string, FlowForm>();
  private selected: string | null = null;
  private batches: BatchRun[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];
  private pending: NodeJS.Timeout | undefined;
  /** Whether the page said it is ready (what is posted before may be lost). */
  private pageReady = false;
  /** The run to show with the next state the page gets. */
  private focus: string | null = null;

  constructor(private readonly extensionUri: vscode.Uri, private readonly runs: Runs,
              private readonly log: vscode.LogOutputChannel, private readonly stored: BatchSource) {
    this.subscriptions.push(runs.onDidChange(() => this.post()));
  }

  /** Reads the stored batch runs again (on opening the panel, after a batch run, on request). */
  async refreshBatches(): Promise<void> {
    try {
      this.batches = await this.stored.list();
    } catch (error) {
      this.log.warn(`Cannot list the stored runs: ${String(error)}`);
    }
    this.post();
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.extensionUri, "dist", "webview");
    // The workspace folders too: output images are files under each flow's .promptflow/output.
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri);
    view.webview.options = { enableScripts: true, localResourceRoots: [dist, ...folders] };
    view.webview.html = webviewHtml(view.webview, dist, "runPanel", "Flowline runs");
    this.subscriptions.push(
      view.webview.onDidReceiveMessage((message: FromWebview) => this.receive(message)),
      view.onDidDispose(() => {
        this.view = undefined;
        this.pageReady = false;
      }),
      view.onDidChangeVisibility(() => this.post()),
    );
    void this.refreshBatches();
  }

  /** Shows the panel (without taking the focus from the editor). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`, { preserveFocus: true });
    this.view?.show(true);
  }

  /** Shows the panel with a run opened and scrolled into view, its nodes open (a chat turn's trace). */
  async showRun(runId: string): Promise<void> {
    this.focus = runId;
    await this.reveal();
    this.post();
  }

  /** Makes a flow the one the form shows (and refreshes its inputs from the server). */
  async select(uri: string): Promise<void> {
    this.selected = uri;
    try {
      this.forms.set(uri, await this.runs.form(uri));
    } catch (error) {
      this.log.warn(`Cannot read the inputs of ${uri}: ${String(error)}`);
    }
    this.post();
  }

  /**
   * Sends the panel the state soon, once for all the changes until then: each event of a run changes
   * the history, and sending the whole state for each of thousands of printed lines kept the panel
   * busy long after the run ended.
   */
  private post(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.send();
    }, POST_DELAY_MS);
  }

  private send(): void {
    if (!this.view) {
      return;
    }
    for (const [uri, form] of this.forms) {
      this.forms.set(uri, { ...form, values: this.runs.values(uri) });
    }
    const message: ToWebview = { type: "state", runs: this.runs.history, flows: [...this.forms.values()],
      selected: this.selected, running: [...this.runs.running], batches: this.batches,
      nodeForm: this.runs.nodeForm ?? null, imageRoot: this.view.webview.asWebviewUri(vscode.Uri.file("/")).toString(),
      focus: this.pageReady ? this.focus : null };
    if (this.pageReady) {
      this.focus = null;
    }
    void this.view.webview.postMessage(message);
  }

  private async receive(message: FromWebview): Promise<void> {
    try {
      switch (message.type) {
        case "ready":
          this.pageReady = true;
          this.post();
          break;
        case "run":
          await this.runs.runFlow(message.uri, message.values);
          break;
        case "runNode":
          await this.runs.runNode(message.uri, message.node, message.values);
          break;
        case "closeNodeForm":
          this.runs.closeNodeForm();
          break;
        case "rerun":
          await this.runs.rerun(message.runId);
          break;
        case "cancel":
          await this.runs.cancel(message.runId);
          break;
        case "select":
          await this.select(message.uri);
          break;
        case "open": {
          const line = Math.max(0, (message.line ?? 1) - 1);
          await vscode.window.showTextDocument(vscode.Uri.file(message.file), {
            selection: new vscode.Range(line, 0, line, 0), preview: false });
          break;
        }
        case "clear":
          this.runs.clear();
          break;
        case "report":
          await this.stored.report(message.names);
          break;
        case "refreshBatches":
          await this.refreshBatches();
          break;
      }
    } catch (error) {
      void vscode.window.showErrorMessage(error instanceof Error ? error.message : String(error));
    }
  }

  dispose(): void {
    clearTimeout(this.pending);
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }
}
