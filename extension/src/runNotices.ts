/**
 * How a run ended, where the user sees it besides the run panel: every run's end is a line in the
 * Flowline output; a run that did not get going (a missing package, an invalid flow, a crash before
 * its first event) is also a notification. A missing package offers "Install requirements.txt"
 * (when the flow's folder has one; pip installs it into the interpreter flows run with, then the
 * run can go again) and "Select Python Interpreter".
 */

import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import type { FlowlineServer } from "./python";
import { reportError } from "./report";
import { INSTALL_REQUIREMENTS, runNotice, runTitle, SELECT_INTERPRETER } from "./runModel";
import type { RunFinished, Runs } from "./runs";

export class RunNotices implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(private readonly server: FlowlineServer, private readonly runs: Runs,
              private readonly log: vscode.LogOutputChannel) {
    this.subscription = runs.onDidFinish((finished) => void this.finished(finished));
  }

  private async finished({ uri, node, result }: RunFinished): Promise<void> {
    const flow = vscode.Uri.parse(uri).fsPath;
    const title = runTitle(flow, node);
    const line = `Run ${result.run_id ?? "(none)"} of ${title}: ${result.status}`
      + (result.error ? ` (${result.error.type}: ${result.error.message})` : "");
    if (result.status === "Failed") {
      this.log.error(line);
    } else {
      this.log.info(line);
    }
    const requirements = path.join(path.dirname(flow), "requirements.txt");
    const notice = runNotice(result, title, this.server.interpreter?.path, fs.existsSync(requirements));
    if (!notice) {
      return;
    }
    const choice = await vscode.window.showErrorMessage(`Flowline: ${notice.message}`, ...notice.actions);
    if (choice === INSTALL_REQUIREMENTS) {
      await this.install(requirements, result.run_id);
    } else if (choice === SELECT_INTERPRETER) {
      await vscode.commands.executeCommand("flowline.selectInterpreter");
    }
  }

  private async install(requirements: string, runId: string | null): Promise<void> {
    try {
      await this.server.installRequirements(requirements);
      const again = await vscode.window.showInformationMessage(`Flowline: installed ${requirements}.`,
        ...(runId ? ["Run Again"] : []));
      if (again && runId) {
        await this.runs.rerun(runId);
      }
    } catch (error) {
      reportError(this.log, error);
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
