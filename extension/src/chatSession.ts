/**
 * One chat panel's conversation with its flow (chatPanel.ts opens and restores the panels). Each
 * message is one run of the flow on the same path as Run flow (so it shows in the run panel, and
 * cancels and debugs the same way), with the completed turns before it as the chat history; the
 * answer streams in from the chat output's node. The conversation belongs to the flow folder
 * (`.flowline/chat.json`, written at every change that matters), so it is back after a reload, and
 * so is the panel. The page renders the last `state` it got and the
 * `token`s after it (chatMessages.ts); what a turn is made of is chatModel.ts.
 */

import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import type { FromChat, ToChat } from "./chatMessages";
import { applyChatEvent, type Chat, CHAT_FILE, chatFileText, type ChatRoles, chatRoles, chatShape, emptyChat,
  endTurn, exportLines, exportRunArgs, newTurn, otherFields, readChat, settleTurn, turnInputs } from "./chatModel";
import { flowUri, isFlowFile } from "./commands";
import type { FlowlineDebug } from "./debug";
import { formInputs } from "./inputs";
import type { InputField } from "./messages";
import type { ErrorInfo, FlowEvent } from "./protocol";
import { reportError } from "./report";
import type { RunPanel } from "./runPanel";
import type { Runs } from "./runs";
import { commandLine } from "./serveModel";
import { webviewHtml } from "./webviewHtml";

/** How long changes gather before the page gets the state (tokens go at once). */
const POST_DELAY_MS = 40;
/** How long typing in the other inputs' form gathers before the file is written. */
const VALUES_SAVE_DELAY_MS = 400;
/** How long a debug session that ended may take to hand over its run's last events. */
const DEBUG_END_GRACE_MS = 1500;
const COPY_COMMAND = "Copy Command";

export const RELOADED: ErrorInfo = { type: "Interrupted",
  message: "The window closed or reloaded while this turn was going on; send it again." };
const CLOSED: ErrorInfo = { type: "Canceled", message: "The chat panel closed while this turn was going on." };

/** What the chat panels use of the rest of the extension. */
export interface ChatDeps {
  extensionUri: vscode.Uri;
  runs: Runs;
  debug: FlowlineDebug;
  runPanel: RunPanel;
  log: vscode.LogOutputChannel;
}

/** The panel's title for a flow folder. */
export function chatTitle(folder: string): string {
  return `Chat: ${path.basename(folder)}`;
}

/** The flow the command is for: its argument, the active text editor's or the visual editor's flow. */
export function chatFlowUri(argument: unknown): string | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return flowUri(argument)
    ?? (tab instanceof vscode.TabInputCustom && isFlowFile(tab.uri.fsPath) ? tab.uri.toString() : undefined);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One flow's chat panel: its page, its conversation and the turn running. */
export class ChatSession implements vscode.Disposable {
  readonly folder: string;
  private readonly file: string;
  private chat: Chat;
  private roles: ChatRoles | undefined;
  private fields: InputField[] = [];
  /** The turn running: its id, whether Stop was asked before its run started, its debug session. */
  private turn: { id: string; cancel: boolean; debug?: vscode.DebugSession } | undefined;
  private pageReady = false;
  private closed = false;
  private posting: NodeJS.Timeout | undefined;
  private savingValues: NodeJS.Timeout | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  constructor(readonly uri: string, readonly panel: vscode.WebviewPanel, private readonly deps: ChatDeps) {
    this.folder = path.dirname(vscode.Uri.parse(uri).fsPath);
    this.file = path.join(this.folder, ...CHAT_FILE);
    this.chat = this.read();
    const dist = vscode.Uri.joinPath(deps.extensionUri, "dist", "webview");
    panel.webview.html = webviewHtml(panel.webview, dist, "chat", chatTitle(this.folder), true);
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((received: FromChat) => void this.receive(received)),
      panel.onDidDispose(() => this.dispose(CLOSED)),
      deps.runs.onDidEvent((event) => this.onEvent(event)),
      deps.runs.onDidAttach(() => void this.load()),
      vscode.workspace.onDidSaveTextDocument((document) => {
        if (document.uri.toString() === this.uri) {
          void this.load();  // its inputs may have changed
        }
      }),
      vscode.debug.onDidStartDebugSession((session) => {
        if (this.turn && session.configuration.tag === this.turn.id) {
          this.turn.debug = session;
        }
      }),
      vscode.debug.onDidTerminateDebugSession((session) => {
        const turn = this.turn;
        if (turn && session.configuration.tag === turn.id) {
          setTimeout(() => this.debugEnded(turn.id), DEBUG_END_GRACE_MS);
        }
      }),
    );
  }

  private read(): Chat {
    let text: string | undefined;
    try {
      text = fs.readFileSync(this.file, "utf-8");
    } catch {
      return emptyChat();  // no conversation yet
    }
    return readChat(text, RELOADED);
  }

  /** Writes the conversation to the flow folder (a failure is logged: the chat goes on). */
  private save(): void {
    clearTimeout(this.savingValues);
    this.savingValues = undefined;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const partial = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(partial, chatFileText(this.chat));
      fs.renameSync(partial, this.file);
    } catch (error) {
      this.deps.log.warn(`Cannot keep the chat in ${this.file}: ${message(error)}`);
    }
  }

  /** Reads the flow's chat roles and other inputs from the language server (it may not run yet: later, then). */
  async load(): Promise<void> {
    try {
      const graph = await this.deps.runs.graph(this.uri);
      const roles = chatRoles(graph);
      if (typeof roles === "string") {
        void vscode.window.showWarningMessage(`Flowline: '${path.basename(this.folder)}' is no longer a chat flow: `
          + `${roles}.`);
        this.panel.dispose();
        return;
      }
      this.roles = roles;
      this.fields = otherFields(graph, roles);
      this.post();
    } catch (error) {
      this.deps.log.info(`Chat ${this.folder}: the flow's chat roles are not known yet: ${message(error)}`);
    }
  }

  /** Sends the page the state soon, once for all the changes until then. */
  private post(): void {
    this.posting ??= setTimeout(() => {
      this.posting = undefined;
      this.sendState();
    }, POST_DELAY_MS);
  }

  private sendState(): void {
    if (!this.roles || !this.pageReady) {
      return;
    }
    this.send({ type: "state", shape: chatShape(this.roles, this.uri, path.basename(this.folder)), turns: this.chat.turns,
      fields: this.fields, values: this.chat.values, running: this.turn !== undefined,
      imageRoot: this.panel.webview.asWebviewUri(vscode.Uri.file("/")).toString() });
  }

  private send(sent: ToChat): void {
    void this.panel.webview.postMessage(sent);
  }

  /** A run event: the running turn gets its run, streams its answer, ends. */
  private onEvent(event: FlowEvent): void {
    if (!this.turn || !this.roles) {
      return;
    }
    const update = applyChatEvent(this.chat.turns, event, this.roles);
    if (update.turns === this.chat.turns) {
      return;
    }
    this.chat = { ...this.chat, turns: update.turns };
    if (update.token) {
      this.send({ type: "token", turnId: update.token.turnId, text: update.token.text });
    }
    if (update.changed) {
      const turn = this.turn;
      const now = this.chat.turns.find((t) => t.id === turn.id);
      if (event.type === "run_start" && now?.runId && turn.cancel) {
        void this.deps.runs.cancel(now.runId);
      }
      if (now?.status !== "Running") {
        this.turn = undefined;
      }
      this.save();
      this.post();
    }
  }

  private async receive(received: FromChat): Promise<void> {
    try {
      switch (received.type) {
        case "ready":
          this.pageReady = true;
          if (this.roles) {
            this.post();
          } else {
            await this.load();
          }
          break;
        case "send":
          await this.sendTurn(received.text, received.images, received.values, received.debug);
          break;
        case "cancel":
          await this.cancel();
          break;
        case "newChat":
          await this.cancel();
          this.turn = undefined;
          this.chat = { ...this.chat, turns: [] };
          this.save();
          this.post();
          break;
        case "export":
          await this.export();
          break;
        case "openTrace":
          await this.deps.runPanel.showRun(received.runId);
          break;
        case "values":
          this.chat = { ...this.chat, values: received.values };
          clearTimeout(this.savingValues);
          this.savingValues = setTimeout(() => this.save(), VALUES_SAVE_DELAY_MS);
          break;
      }
    } catch (error) {
      reportError(this.deps.log, error, "Chat");
    }
  }

  /** Sends a message: a new turn, run (or debugged) with the history of the completed turns before it. */
  private async sendTurn(text: string, images: string[], values: Record<string, unknown>, debug: boolean)
    : Promise<void> {
    if (this.turn) {
      void vscode.window.showInformationMessage("Flowline: one turn at a time: wait for the answer, or stop it.");
      return;
    }
    if (!text.trim() && !images.length) {
      return;
    }
    await this.load();  // the flow may have changed since the panel drew it
    const roles = this.roles;
    if (!roles) {
      throw new Error("The Flowline language server is not running (see the Flowline output).");
    }
    this.chat = { ...this.chat, values };
    const others = formInputs(this.fields, values);  // an InputError says which value is wrong
    const inputs = turnInputs(this.chat.turns, roles, text, images, others);
    const turn = newTurn(crypto.randomUUID(), text, images, others, debug);
    this.turn = { id: turn.id, cancel: false };
    this.chat = { ...this.chat, turns: [...this.chat.turns, turn] };
    this.save();
    this.post();
    try {
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === this.uri);
      if (document?.isDirty) {
        await document.save();  // the run reads the flow from disk
      }
      if (debug) {
        const started = await this.deps.debug.start(this.uri, undefined, { inputs, tag: turn.id,
          name: `Debug chat turn ${this.chat.turns.length} (${path.basename(this.folder)})` });
        if (!started) {
          this.endTurn(turn.id, "Failed", { type: "DebugSession",
            message: "The debugger did not start (see the Flowline output)." });
        }
        return;  // the run's events (debug.ts) end the turn
      }
      const result = await this.deps.runs.runChatTurn(this.uri, inputs, turn.id);
      this.chat = { ...this.chat, turns: settleTurn(this.chat.turns, turn.id, result, roles) };
      if (this.turn?.id === turn.id) {
        this.turn = undefined;
      }
      this.save();
      this.post();
    } catch (error) {
      this.endTurn(turn.id, "Failed", { type: "NotStarted", message: message(error) });
      throw error;
    }
  }

  /** A running turn ends here (nothing else will end it). */
  private endTurn(turnId: string, status: "Failed" | "Canceled", error: ErrorInfo): void {
    this.chat = { ...this.chat, turns: endTurn(this.chat.turns, status, error, turnId) };
    if (this.turn?.id === turnId) {
      this.turn = undefined;
    }
    this.save();
    this.post();
  }

  /** A debug turn's session ended: a turn whose run never started (or never ended) ends too. */
  private debugEnded(turnId: string): void {
    const turn = this.chat.turns.find((t) => t.id === turnId);
    if (turn?.status !== "Running") {
      return;
    }
    this.endTurn(turnId, turn.runId ? "Canceled" : "Failed", turn.runId
      ? { type: "Canceled", message: "The debug session ended before the run did." }
      : { type: "DebugSession", message: "The debug session ended before the turn's run started (see the Debug Console)." });
  }

  /** Stops the running turn (its run, or its debug session while the run has not started yet). */
  private async cancel(): Promise<void> {
    const running = this.turn;
    if (!running) {
      return;
    }
    const turn = this.chat.turns.find((t) => t.id === running.id);
    if (turn?.runId) {
      await this.deps.runs.cancel(turn.runId);
    } else if (running.debug) {
      await vscode.debug.stopDebugging(running.debug);
    } else {
      running.cancel = true;  // canceled as soon as its run starts
    }
  }

  /** Saves the completed turns as a JSONL data file for `flowline run create --data`. */
  private async export(): Promise<void> {
    if (!this.roles) {
      return;
    }
    const lines = exportLines(this.chat.turns, this.roles);
    if (!lines.length) {
      void vscode.window.showInformationMessage("Flowline: no turn of this chat has completed yet: nothing to export.");
      return;
    }
    const target = await vscode.window.showSaveDialog({ title: "Export the chat as a data file",
      defaultUri: vscode.Uri.file(path.join(this.folder, "chat.jsonl")), filters: { "JSON Lines": ["jsonl"] } });
    if (!target) {
      return;
    }
    await fs.promises.writeFile(target.fsPath, `${lines.join("\n")}\n`);
    const command = commandLine("flowline", exportRunArgs(this.folder, target.fsPath, lines, this.roles));
    this.deps.log.info(`Exported ${lines.length} turn(s) of ${this.folder} to ${target.fsPath}`);
    const choice = await vscode.window.showInformationMessage(`Flowline: saved ${lines.length} turn(s) to `
      + `${target.fsPath}. Run the flow over them (the answers are the expected ones): ${command}`, COPY_COMMAND);
    if (choice === COPY_COMMAND) {
      await vscode.env.clipboard.writeText(command);
    }
  }

  /**
   * The panel closed (`reason` CLOSED), or the extension stops with the window (RELOADED): a running
   * turn is stopped and ends with that reason.
   */
  dispose(reason: ErrorInfo = CLOSED): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    if (this.turn) {
      const running = this.turn;
      void this.cancel().catch((error: unknown) => this.deps.log.warn(`Canceling the chat turn: ${message(error)}`));
      this.endTurn(running.id, "Canceled", reason);
    } else if (this.savingValues !== undefined) {
      this.save();
    }
    clearTimeout(this.posting);
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.subscriptions.length = 0;
    this.disposed.fire();
    this.disposed.dispose();
  }
}
