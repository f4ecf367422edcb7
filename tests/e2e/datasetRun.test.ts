/**
 * "Flowline: Run Flow over a Dataset..." in real VS Code (code-server in headless Chromium), on
 * samples/dataset-defaults: both inputs have defaults and data.jsonl holds other names, so the
 * outputs show whether each line read the file (the mapping) or the defaults (no mapping). Then a
 * run whose every line fails, told as an error with the reason.
 */

import * as assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { type Session, startSession } from "./codeServer";
import { Workbench } from "./workbench";

let session: Session;
let bench: Workbench;

before(async () => {
  session = await startSession();
  bench = new Workbench(session.page);
  await bench.load(session.url);
});

after(async () => {
  await session?.close();
});

const MAPPING = "Inputs of the batch run over data.jsonl";

/** The stored runs of the session whose name starts with `prefix`. */
function runsNamed(prefix: string): string[] {
  const root = join(session.home, ".runs");
  return existsSync(root) ? readdirSync(root).filter((name) => name.startsWith(prefix)) : [];
}

test("the inputs map to the file's columns, a literal and a variant; every line reads its own row", async () => {
  try {
    await bench.open("dataset-defaults/flow.dag.yaml");
    await bench.codeLens("Run flow").waitFor({ timeout: 60_000 });  // the language server answers
    await bench.commandAsking("Flowline: Run Flow over a Dataset...", "Data for the batch run");
    await bench.chooseFile("Data for the batch run", join(session.workspace, "dataset-defaults", "data.jsonl"));

    // Pre-filled by name: `name` reads its column; `greeting` (no column of that name) keeps its default.
    await bench.quickPickRow(MAPPING, "${data.name}").waitFor({ timeout: 30_000 });
    await bench.quickPickRow(MAPPING, "Default (Hello)").waitFor();
    await bench.shot("dataset-01-mapping");
    await bench.quickPickRow(MAPPING, "greeting").click();
    await bench.quickPickRow("Value of input 'greeting'", "A literal value").click();
    await bench.answer("on every line", "Hi");
    await bench.quickPickRow(MAPPING, "Literal: Hi").waitFor();
    await bench.quickPickRow(MAPPING, "Run with this mapping").click();
    await bench.quickPickRow("Variant for the batch run", "${compose.formal}").click();

    const done = bench.toast(/Batch run dataset-defaults_formal_\S+: Completed, 3 of 3 lines completed\./);
    await done.waitFor({ timeout: 60_000 });
    await bench.activeTab().filter({ hasText: "Runs: dataset-defaults_formal_" }).waitFor();  // its report
    await bench.reportPage().locator("h1", { hasText: "dataset-defaults_formal_" }).waitFor({ timeout: 10_000 });
    await bench.shot("dataset-02-completed");
    const [name] = runsNamed("dataset-defaults_formal_");
    assert.ok(name, "the run is stored under the session's FLOWLINE_HOME");
    const outputs = readFileSync(join(session.home, ".runs", name, "flow_outputs", "output.jsonl"), "utf-8")
      .trim().split("\n").map((line) => JSON.parse(line) as { line_number: number; message: string });
    assert.deepEqual(outputs.sort((a, b) => a.line_number - b.line_number).map((o) => o.message),
      ["Ada", "Grace", "Linus"].map((who) => `Hi, ${who}. It is a pleasure to meet you.`));
    const meta = JSON.parse(readFileSync(join(session.home, ".runs", name, "meta.json"), "utf-8")) as
      { column_mapping: Record<string, string>; variant: string };
    assert.deepEqual([meta.column_mapping, meta.variant], [{ name: "${data.name}", greeting: "Hi" }, "${compose.formal}"]);
  } catch (error) {
    await bench.shot("dataset-failed").catch(() => undefined);
    await bench.page.keyboard.press("Escape").catch(() => undefined);
    throw error;
  } finally {
    await bench.closeAllEditors();
  }
});

test("a run whose every line fails is told as an error with the first line's error", async () => {
  // The data lives next to the session's FLOWLINE_HOME, outside the workspace (removed with the session).
  const data = join(dirname(session.home), "amounts.jsonl");
  writeFileSync(data, '{"amount": "twelve"}\n');
  try {
    await bench.open("failing-tool/flow.dag.yaml");
    await bench.codeLens("Run flow").waitFor({ timeout: 60_000 });
    await bench.commandAsking("Flowline: Run Flow over a Dataset...", "Data for the batch run");
    await bench.chooseFile("Data for the batch run", data);
    const mapping = "Inputs of the batch run over amounts.jsonl";
    await bench.quickPickRow(mapping, "${data.amount}").waitFor({ timeout: 30_000 });
    await bench.quickPickRow(mapping, "Run with this mapping").click();  // the flow has no variants: no second pick
    // As in promptflow, a run whose lines all failed is Completed; the message says what failed.
    await bench.toast("Completed, 0 of 1 lines completed, 1 failed; no line completed; line 0 failed with ValueError: "
      + "invalid literal for int() with base 10: 'twelve'.").filter({ hasText: "Batch run failing-tool_" }).waitFor({ timeout: 60_000 });
    await bench.shot("dataset-03-failed");
  } catch (error) {
    await bench.shot("dataset-failed-run").catch(() => undefined);
    await bench.page.keyboard.press("Escape").catch(() => undefined);
    throw error;
  } finally {
    await bench.closeAllEditors();
  }
});
