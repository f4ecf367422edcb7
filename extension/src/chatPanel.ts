/**
 * "Flowline: Chat with Flow": a panel beside a chat flow that holds a conversation with it
 * (chatSession.ts), one per flow folder; the command that opens them and the webview panel
 * serializer that brings them back after a reload.
 */

import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { chatRoles } from "./chatModel";
import { type ChatDeps, chatFlowUri, ChatSession, chatTitle, RELOADED } from "./chatSession";
import { noFlow } from "./commands";
import { reportError } from "./report";

export const CHAT_VIEW = "flowline.chat";

/** The chat panels, one per flow folder: the command that opens them and the serializer that restores them. */
export class ChatPanels implements vscode.WebviewPanelSerializer<unknown>, vscode.Disposable {
  private readonly sessions = new Map<string, ChatSession>();

  constructor(private readonly deps: ChatDeps) {}

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    const dist = vscode.Uri.joinPath(this.deps.extensionUri, "dist", "webview");
    // The workspace folders too: images of outputs are files under each flow's .promptflow/output.
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri);
    return { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [dist, ...folders] };
  }

  /**
   * Opens the chat panel of a chat flow (the argument's, else the active editor's) beside it, or shows
   * the one open; a flow that is not a chat flow is refused with the reason.
   */
  async open(argument?: unknown): Promise<void> {
    const uri = chatFlowUri(argument);
    if (!uri) {
      noFlow();
      return;
    }
    const folder = path.dirname(vscode.Uri.parse(uri).fsPath);
    const open = this.sessions.get(folder);
    if (open) {
      open.panel.reveal();
      return;
    }
    try {
      const roles = chatRoles(await this.deps.runs.graph(uri));
      if (typeof roles === "string") {
        void vscode.window.showWarningMessage(`Flowline: '${path.basename(folder)}' is not a chat flow: ${roles}.`);
        return;
      }
      const panel = vscode.window.createWebviewPanel(CHAT_VIEW, chatTitle(folder), vscode.ViewColumn.Beside,
        this.options());
      this.adopt(panel, uri);
    } catch (error) {
      reportError(this.deps.log, error, "Chat");
    }
  }

  /** A chat panel that was open before the window reloaded: its page kept its flow's uri (`Saved.uri` in the page). */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const given = typeof state === "object" && state !== null ? (state as { uri?: unknown }).uri : undefined;
    const uri = typeof given === "string" ? given : undefined;
    const folder = uri ? path.dirname(vscode.Uri.parse(uri).fsPath) : undefined;
    if (!uri || !folder || this.sessions.has(folder) || !fs.existsSync(vscode.Uri.parse(uri).fsPath)) {
      panel.dispose();  // its flow is gone, or shown already
      return;
    }
    panel.webview.options = this.options();
    this.adopt(panel, uri);
  }

  private adopt(panel: vscode.WebviewPanel, uri: string): void {
    const session = new ChatSession(uri, panel, this.deps);
    this.sessions.set(session.folder, session);
    session.onDidDispose(() => {
      if (this.sessions.get(session.folder) === session) {
        this.sessions.delete(session.folder);
      }
    });
    void session.load();
  }

  dispose(): void {
    for (const session of [...this.sessions.values()]) {
      session.dispose(RELOADED);  // the window closes or reloads: the panels come back (deserializeWebviewPanel)
    }
    this.sessions.clear();
  }
}
