/**
 * Code lens commands that cannot go missing. VS Code keeps a lens command that has arguments in a
 * cache of the lens list it came in, and drops that list once the lenses are computed again after
 * an edit and the ones in view are redrawn; a lens that was out of view keeps its dropped command
 * until it is redrawn, and a click on it then fails with "Actual command not found"
 * (microsoft/vscode#84153). A command without arguments is sent by its id, so every lens command
 * of the language server (`flowline.runNode [uri, node]`, ...) is given here an argument-less id
 * of its own, `flowline.lens.<n>`, one per distinct command and arguments, registered until the
 * flow's document closes. Only VS Code's types are imported: it is unit-tested in plain Node.
 */

import type { CancellationToken, CodeLens, Disposable, ProviderResult, TextDocument } from "vscode";

export const LENS_COMMAND_PREFIX = "flowline.lens.";

/** Registers a command (`vscode.commands.registerCommand` in the extension). */
export type Register = (id: string, run: () => unknown) => Disposable;
/** Runs a command (`vscode.commands.executeCommand` in the extension). */
export type Execute = (command: string, ...args: unknown[]) => unknown;
/** The language client's own lens request (code lens middleware's `next`). */
export type ProvideLenses = (document: TextDocument, token: CancellationToken) => ProviderResult<CodeLens[]>;

export class LensCommands implements Disposable {
  /** The stand-in id of each command with its arguments, per document URI. */
  private readonly documents = new Map<string, Map<string, { id: string; registration: Disposable }>>();
  private next = 0;

  constructor(private readonly register: Register, private readonly execute: Execute) {}

  /** The argument-less id that runs `command` with `args` (the same id each time they are the same). */
  standIn(document: string, command: string, args: readonly unknown[]): string {
    const known = this.documents.get(document) ?? new Map<string, { id: string; registration: Disposable }>();
    this.documents.set(document, known);
    const key = JSON.stringify([command, args]);
    let entry = known.get(key);
    if (!entry) {
      const id = `${LENS_COMMAND_PREFIX}${this.next++}`;
      entry = { id, registration: this.register(id, () => this.execute(command, ...args)) };
      known.set(key, entry);
    }
    return entry.id;
  }

  /** Code lens middleware: the server's lenses, each command with arguments replaced by its stand-in. */
  async provide(document: TextDocument, token: CancellationToken, next: ProvideLenses)
    : Promise<CodeLens[] | null | undefined> {
    const lenses = await next(document, token);
    for (const lens of lenses ?? []) {
      const command = lens.command;
      if (command?.arguments?.length) {
        lens.command = { title: command.title, tooltip: command.tooltip,
          command: this.standIn(document.uri.toString(), command.command, command.arguments) };
      }
    }
    return lenses;
  }

  /** Unregisters the stand-ins of a document (it closed: no lens of it shows any more). */
  forget(document: string): void {
    for (const { registration } of this.documents.get(document)?.values() ?? []) {
      registration.dispose();
    }
    this.documents.delete(document);
  }

  dispose(): void {
    for (const document of [...this.documents.keys()]) {
      this.forget(document);
    }
  }
}
