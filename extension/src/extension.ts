/** activate(): wires the parts of the extension together, nothing else. */

import * as vscode from "vscode";
import type { Middleware } from "vscode-languageclient/node";
import { CHAT_VIEW, ChatPanels } from "./chatPanel";
import { Commands, isFlowFile } from "./commands";
import { FlowlineDebug } from "./debug";
import { FLOW_EDITOR, FlowEditorProvider, openVisualEditor } from "./flowEditor";
import { InlineResults } from "./inline";
import { LensCommands } from "./lensCommands";
import { FlowlineServer } from "./python";
import type { BatchRun } from "./messages";
import { RunNotices } from "./runNotices";
import { type BatchSource, RunPanel, VIEW_ID } from "./runPanel";
import { Runs } from "./runs";
import { Serving } from "./serve";
import { needsRestart } from "./settings";

let server: FlowlineServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel("Flowline", { log: true });
  const runs = new Runs(context.workspaceState, log);
  const stored: BatchSource = {
    list: (): Promise<BatchRun[]> => commands.listRuns(),
    report: (names: string[]): Promise<void> => commands.showReport(names),
  };
  const panel: RunPanel = new RunPanel(context.extensionUri, runs, log, stored);
  const lenses = new LensCommands((id, run) => vscode.commands.registerCommand(id, run),
    (command, ...args) => vscode.commands.executeCommand(command, ...args));
  const middleware: Middleware = {
    executeCommand: (command, args, next) => commands.route(command, args, next),
    provideCodeLenses: (document, token, next) => lenses.provide(document, token, next),
  };
  server = new FlowlineServer(context, log, middleware);
  const debug = new FlowlineDebug(server, runs, log);
  const commands: Commands = new Commands(server, runs, panel, debug, log);
  const started = server;
  const flowEditor = new FlowEditorProvider(context.extensionUri, server, runs, log);
  const serving = new Serving(server, log);
  const chats = new ChatPanels({ extensionUri: context.extensionUri, runs, debug, runPanel: panel, log });
  let listening: vscode.Disposable | undefined;
  context.subscriptions.push(
    log, runs, panel, server, debug, serving, new InlineResults(runs), new RunNotices(server, runs, log), lenses,
    vscode.workspace.onDidCloseTextDocument((document) => lenses.forget(document.uri.toString())),
    vscode.window.registerWebviewViewProvider(VIEW_ID, panel, { webviewOptions: { retainContextWhenHidden: true } }),
    server.onDidStart((client) => {
      listening?.dispose();
      listening = runs.attach(client);
      void panel.refreshBatches();
    }),
    { dispose: () => listening?.dispose() },
    vscode.commands.registerCommand("flowline.debugFlow", (uri?: unknown) => commands.debugFlow(uri)),
    vscode.commands.registerCommand("flowline.debugNode", (uri?: unknown, node?: unknown) => commands.debugNode(uri, node)),
    vscode.window.registerCustomEditorProvider(FLOW_EDITOR, flowEditor,
      { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.commands.registerCommand("flowline.openVisualEditor",
      (uri?: unknown, node?: unknown) => openVisualEditor(flowEditor, uri, node)),
    vscode.commands.registerCommand("flowline.runBatch", (uri?: unknown) => commands.runBatch(uri)),
    vscode.commands.registerCommand("flowline.createFlow", () => commands.createFlow()),
    vscode.commands.registerCommand("flowline.createConnection", (name?: unknown) => commands.createConnection(name)),
    vscode.commands.registerCommand("flowline.selectInterpreter", () => commands.selectInterpreter()),
    vscode.commands.registerCommand("flowline.restartServer", () => started.restart()),
    vscode.commands.registerCommand("flowline.showRun", () => commands.showRun()),
    vscode.commands.registerCommand("flowline.compareRuns", () => commands.compareRuns()),
    vscode.commands.registerCommand("flowline.serveFlow", (uri?: unknown) => serving.serve(uri)),
    vscode.commands.registerCommand("flowline.stopServing", (uri?: unknown) => serving.stop(uri)),
    chats,
    vscode.window.registerWebviewPanelSerializer(CHAT_VIEW, chats),
    vscode.commands.registerCommand("flowline.openChat", (uri?: unknown) => chats.open(uri)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (needsRestart(event)) {
        void started.restart();
      }
    }),
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor && isFlowFile(editor.document.uri.fsPath) && started.client?.isRunning()) {
        void panel.select(editor.document.uri.toString());
      }
    }),
  );
  const python = vscode.extensions.getExtension("ms-python.python");
  if (python?.isActive) {
    const api = python.exports as { environments?: { onDidChangeActiveEnvironmentPath?: vscode.Event<unknown> } };
    const changed = api.environments?.onDidChangeActiveEnvironmentPath;
    if (changed) {
      context.subscriptions.push(changed(() => void started.restart()));
    }
  }
  await server.start();
  const editor = vscode.window.activeTextEditor;
  if (editor && isFlowFile(editor.document.uri.fsPath)) {
    void panel.select(editor.document.uri.toString());
  }
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
