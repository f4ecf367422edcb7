import * as assert from "node:assert/strict";
import { test } from "node:test";
import { neighbour, searchNodes } from "../src/graphNavigation";

const box = (id: string, x: number, y: number) => ({ id, position: { x, y }, width: 100, height: 40 });
const nodes = [box("in", 0, 50), box("a", 200, 0), box("b", 200, 100), box("out", 400, 50)];

test("arrow keys go to the nearest node that way", () => {
  assert.equal(neighbour(nodes, "in", "ArrowRight"), "a");
  assert.equal(neighbour(nodes, "a", "ArrowDown"), "b");
  assert.equal(neighbour(nodes, "b", "ArrowUp"), "a");
  assert.equal(neighbour(nodes, "b", "ArrowRight"), "out");
  assert.equal(neighbour(nodes, "a", "ArrowLeft"), "in");
  assert.equal(neighbour(nodes, "out", "ArrowRight"), null);
  assert.equal(neighbour(nodes, "a", "Enter"), null);
});

test("search finds exact names first, then prefixes, then other matches", () => {
  assert.deepEqual(searchNodes(["summarize", "sum", "check_sum", "inputs.sum_x", "other"], "SUM"),
    ["sum", "inputs.sum_x", "summarize", "check_sum"]);
  assert.deepEqual(searchNodes(["a"], "  "), []);
});
