/** The extension's settings, declared in package.json and read here only. */

import * as vscode from "vscode";

export const SECTION = "flowline";

export type LogLevel = "debug" | "info" | "warning" | "error";

export interface Settings {
  interpreterPath: string;
  logLevel: LogLevel;
  workers: number;
  revealPanel: boolean;
  inlineResults: boolean;
  justMyCode: boolean;
}

/** The settings that apply to a resource (or to the workspace). */
export function readSettings(scope?: vscode.Uri): Settings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return {
    interpreterPath: config.get<string>("python.interpreterPath", "").trim(),
    logLevel: config.get<LogLevel>("server.logLevel", "warning"),
    workers: config.get<number>("run.workers", 4),
    revealPanel: config.get<boolean>("run.revealPanel", true),
    inlineResults: config.get<boolean>("run.inlineResults", true),
    justMyCode: config.get<boolean>("debug.justMyCode", true),
  };
}

/** Settings whose change needs the language server started again. */
export function needsRestart(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.python.interpreterPath`)
    || event.affectsConfiguration(`${SECTION}.server.logLevel`);
}
