import * as assert from "node:assert/strict";
import { test } from "node:test";
import { besideColumn } from "../src/editorGroups";

test("a file from the visual editor goes to the group next to it that exists, not a new third one", () => {
  assert.equal(besideColumn(2, [1, 2]), 1);  // text left, visual editor right: the text's group
  assert.equal(besideColumn(1, [1, 2]), 2);
  assert.equal(besideColumn(2, [1, 2, 3]), 3);  // the right one first
  assert.equal(besideColumn(3, [3, 1, 2, 3]), 2);
});

test("a visual editor alone in the window opens its file beside it", () => {
  assert.equal(besideColumn(1, [1]), undefined);
  assert.equal(besideColumn(1, []), undefined);
});
