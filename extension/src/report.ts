/** How the extension tells the user that something failed: a line in the Flowline output and one message. */

import * as vscode from "vscode";

/** Logs `error` (after `where`, when given) and shows it as "Flowline: <message>". */
export function reportError(log: vscode.LogOutputChannel, error: unknown, where?: string): void {
  const message = error instanceof Error ? error.message : String(error);
  log.error(where ? `${where}: ${message}` : message);
  void vscode.window.showErrorMessage(`Flowline: ${message}`);
}
