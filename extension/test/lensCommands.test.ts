import * as assert from "node:assert/strict";
import { test } from "node:test";
import type { CancellationToken, CodeLens, TextDocument } from "vscode";
import { LENS_COMMAND_PREFIX, LensCommands } from "../src/lensCommands";

/** A LensCommands whose registry and executed commands the test can see. */
function harness(): { lenses: LensCommands; registered: Map<string, () => unknown>; ran: unknown[][] } {
  const registered = new Map<string, () => unknown>();
  const ran: unknown[][] = [];
  const lenses = new LensCommands((id, run) => {
    assert.ok(!registered.has(id), `${id} registered twice`);
    registered.set(id, run);
    return { dispose: () => registered.delete(id) };
  }, (command, ...args) => ran.push([command, ...args]));
  return { lenses, registered, ran };
}

const FLOW = "file:///w/hello/flow.dag.yaml";
const document = { uri: { toString: () => FLOW } } as unknown as TextDocument;
const token = {} as CancellationToken;

/** The lenses the language server gives for the hello flow (as vscode-languageclient converts them). */
function serverLenses(): CodeLens[] {
  const lens = (title: string, command: string, ...args: string[]) =>
    ({ range: {}, isResolved: true, command: { title, command, arguments: [FLOW, ...args] } }) as unknown as CodeLens;
  return [lens("Open visual editor", "flowline.openVisualEditor"), lens("▶ Run node", "flowline.runNode", "greet"),
    lens("▶ Run node", "flowline.runNode", "shout"),
    { range: {}, isResolved: true, command: { title: "no arguments", command: "flowline.runFlow" } } as unknown as CodeLens];
}

test("every lens command with arguments becomes an argument-less stand-in that runs it", async () => {
  const { lenses, registered, ran } = harness();
  const shown = await lenses.provide(document, token, () => serverLenses()) ?? [];
  assert.deepEqual(shown.map((l) => l.command?.arguments), [undefined, undefined, undefined, undefined]);
  assert.deepEqual(shown.map((l) => l.command?.title), ["Open visual editor", "▶ Run node", "▶ Run node", "no arguments"]);
  const ids = shown.map((l) => l.command?.command ?? "");
  assert.ok(ids.slice(0, 3).every((id) => id.startsWith(LENS_COMMAND_PREFIX)) && new Set(ids).size === 4);
  assert.equal(ids[3], "flowline.runFlow");  // nothing VS Code could lose: kept as it is
  await registered.get(ids[2])?.();
  assert.deepEqual(ran, [["flowline.runNode", FLOW, "shout"]]);
});

test("lenses computed again after an edit keep their ids, so a lens drawn before the edit still runs", async () => {
  const { lenses, registered } = harness();
  const before = (await lenses.provide(document, token, () => serverLenses()) ?? []).map((l) => l.command?.command);
  const after = (await lenses.provide(document, token, async () => serverLenses()) ?? []).map((l) => l.command?.command);
  assert.deepEqual(after, before);
  assert.equal(registered.size, 3);
  assert.equal(await lenses.provide(document, token, () => null), null);
});

test("closing the document unregisters its stand-ins; disposing unregisters all", async () => {
  const { lenses, registered } = harness();
  await lenses.provide(document, token, () => serverLenses());
  const other = lenses.standIn("file:///w/chat/flow.dag.yaml", "flowline.runFlow", ["file:///w/chat/flow.dag.yaml"]);
  lenses.forget(FLOW);
  assert.deepEqual([...registered.keys()], [other]);
  lenses.dispose();
  assert.equal(registered.size, 0);
});
