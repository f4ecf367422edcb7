import * as assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";

interface Step {
  id: string;
  description: string;
}

/** The extension manifest: the nearest package.json above this file (compiled or not). */
function manifest(): { contributes: { walkthroughs: { id: string; description: string; steps: Step[] }[] } } {
  let folder = __dirname;
  while (!existsSync(join(folder, "package.json")) && dirname(folder) !== folder) {
    folder = dirname(folder);
  }
  return JSON.parse(readFileSync(join(folder, "package.json"), "utf-8"));
}

// VS Code renders a walkthrough step's description as plain text with links and **bold** only:
// inline code would show its backticks (the step's markdown media renders fully).
test("no walkthrough or walkthrough step description has a backtick", () => {
  const walkthroughs = manifest().contributes.walkthroughs;
  assert.ok(walkthroughs.length > 0 && walkthroughs.every((w) => w.steps.length > 0));
  const offending = walkthroughs.flatMap((w) => [{ id: w.id, description: w.description }, ...w.steps])
    .filter((s) => s.description.includes("`")).map((s) => s.id);
  assert.deepEqual(offending, []);
});
