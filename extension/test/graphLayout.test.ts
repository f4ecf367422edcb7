import * as assert from "node:assert/strict";
import { test } from "node:test";
import ELK from "elkjs/lib/elk.bundled.js";
import { ELK_OPTIONS, elkGraph, type ElkGraphOut, layoutKey, movedNodes, placement, type Placement, type Point, portId,
  roundedPath, routeFits, STABLE_OPTIONS, stabilize } from "../src/graphLayout";
import { ACTIVATE, toGraphView } from "../src/graphModel";
import type { FlowGraph } from "../src/protocol";
import { generatedFlow, node, webClassification } from "./graphFixtures";

const elk = new ELK();

/** What the webview does: ELK with the previous positions as a start, then `stabilize`. */
async function laidOut(graph: FlowGraph, previous?: Placement) {
  const view = toGraphView({ graph, runs: {}, problems: {} });
  const out = await elk.layout(elkGraph(view, previous?.positions) as never) as ElkGraphOut;
  const fresh = placement(out);
  const sizes = new Map(view.nodes.map((n) => [n.id, { width: n.width, height: n.height }]));
  return { view, ...(previous ? stabilize(previous, fresh, sizes) : fresh) };
}

test("the options: layered, left to right, orthogonal edges, crossing minimisation", () => {
  assert.equal(ELK_OPTIONS["elk.algorithm"], "layered");
  assert.equal(ELK_OPTIONS["elk.direction"], "RIGHT");
  assert.equal(ELK_OPTIONS["elk.edgeRouting"], "ORTHOGONAL");
  assert.equal(ELK_OPTIONS["elk.layered.crossingMinimization.strategy"], "LAYER_SWEEP");
});

test("the ELK graph: fixed ports at the handles, inputs first, outputs last, previous positions as a start", () => {
  const view = toGraphView({ graph: webClassification(), runs: {}, problems: {} });
  const fresh = elkGraph(view);
  assert.deepEqual(fresh.layoutOptions, ELK_OPTIONS);
  const input = fresh.children.find((c) => c.id === "inputs.url");
  assert.equal(input?.layoutOptions["elk.layered.layering.layerConstraint"], "FIRST_SEPARATE");
  assert.equal(fresh.children.find((c) => c.id === "outputs.category")?.layoutOptions["elk.layered.layering.layerConstraint"],
    "LAST_SEPARATE");
  const convert = fresh.children.find((c) => c.id === "convert_to_dict");
  assert.deepEqual(convert?.ports.map((p) => [p.id, p.x, p.layoutOptions["elk.port.side"]]), [
    [portId("convert_to_dict", "out"), 240, "EAST"], [portId("convert_to_dict", "input_str"), 0, "WEST"],
    [portId("convert_to_dict", "strict"), 0, "WEST"], [portId("convert_to_dict", ACTIVATE), 0, "WEST"]]);
  assert.equal(convert?.layoutOptions["elk.portConstraints"], "FIXED_POS");
  assert.deepEqual(fresh.edges[0], { id: "inputs.url->fetch_text_content_from_url:url",
    sources: [portId("inputs.url", "out")], targets: [portId("fetch_text_content_from_url", "url")] });
  const stable = elkGraph(view, new Map([["convert_to_dict", { x: 10.4, y: 20.6 }]]));
  assert.deepEqual(stable.layoutOptions, { ...ELK_OPTIONS, ...STABLE_OPTIONS });
  assert.equal(stable.children.find((c) => c.id === "convert_to_dict")?.layoutOptions["elk.position"], "(10,21)");
});

test("ELK puts inputs left of every node and outputs right of them, and routes every edge", async () => {
  const { view, positions, routes } = await laidOut(webClassification());
  const x = (id: string) => positions.get(id)?.x ?? NaN;
  const nodes = view.nodes.filter((n) => n.type === "flowNode").map((n) => n.id);
  assert.ok(nodes.every((n) => x("inputs.url") < x(n)));
  assert.ok(nodes.every((n) => x(n) < x("outputs.category") && x(n) < x("outputs.evidence")));
  assert.ok(x("fetch_text_content_from_url") < x("summarize_text_content"));
  assert.equal(routes.size, view.edges.length);
  // a route starts at the source's output handle and ends at the target's input handle
  const edge = view.edges.find((e) => e.id === "classify_with_llm->convert_to_dict:input_str");
  const route = routes.get(edge?.id ?? "") ?? [];
  const convert = view.nodes.find((n) => n.id === "convert_to_dict");
  const handle = convert?.data.handles.find((h) => h.id === "input_str");
  assert.deepEqual(route.at(-1), { x: x("convert_to_dict"), y: (positions.get("convert_to_dict")?.y ?? 0) + (handle?.y ?? 0) });
});

/** Whether the segment from `a` to `b` (level or upright) passes inside a box (its border excluded). */
function crosses(a: Point, b: Point, box: Point & { width: number; height: number }): boolean {
  const [left, right] = [Math.min(a.x, b.x), Math.max(a.x, b.x)];
  const [top, bottom] = [Math.min(a.y, b.y), Math.max(a.y, b.y)];
  return left < box.x + box.width && right > box.x && top < box.y + box.height && bottom > box.y;
}

test("in a tangled 60-node flow every route bends at right angles and passes through no box but its own two", async () => {
  const { view, positions, routes } = await laidOut(generatedFlow(60));
  assert.equal(view.nodes.length, 64);
  assert.equal(routes.size, view.edges.length);
  const boxes = view.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height,
    ...positions.get(n.id) as Point }));
  const through: string[] = [];
  for (const edge of view.edges) {
    const route = routes.get(edge.id) ?? [];
    for (let i = 1; i < route.length; i += 1) {
      const [a, b] = [route[i - 1], route[i]];
      assert.ok(a.x === b.x || a.y === b.y, `${edge.id} has a slanted segment ${JSON.stringify([a, b])}`);
      for (const box of boxes) {
        if (box.id !== edge.source && box.id !== edge.target && crosses(a, b, box)) {
          through.push(`${edge.id} through ${box.id}`);
        }
      }
    }
  }
  assert.deepEqual(through, []);
});

test("with the previous layout, a new input row or an added node moves no other node", async () => {
  const first = await laidOut(webClassification());
  const changed = webClassification();
  changed.nodes[0].inputs = { url: "${inputs.url}", timeout: 3 };  // a new input row: the node grows
  const again = await laidOut(changed, first);
  assert.deepEqual(movedNodes(first.positions, again.positions), []);
  for (const [name, reads] of [["log_result", "convert_to_dict"], ["early", "fetch_text_content_from_url"]]) {
    const added = webClassification();
    added.nodes.push(node(name, { inputs: { value: `\${${reads}.output}` } }));
    added.edges.push({ source: reads, target: name, port: "value" });
    const next = await laidOut(added, first);
    assert.deepEqual(movedNodes(first.positions, next.positions), []);
    const at = next.positions.get(name) as Point;
    const size = next.view.nodes.find((n) => n.id === name) as { width: number; height: number };
    // right of what it reads, and on no other box
    assert.ok(at.x > (next.positions.get(reads)?.x ?? Infinity));
    for (const other of next.view.nodes.filter((n) => n.id !== name)) {
      const p = next.positions.get(other.id) as Point;
      const apart = at.x >= p.x + other.width || p.x >= at.x + size.width || at.y >= p.y + other.height
        || p.y >= at.y + size.height;
      assert.ok(apart, `${name} lies on ${other.id}`);
    }
  }
});

test("a node that grew pushes down the nodes it would cover; the others keep their places", () => {
  const previous = { positions: new Map([["a", { x: 0, y: 0 }], ["b", { x: 0, y: 70 }], ["c", { x: 300, y: 70 }],
    ["d", { x: 0, y: 140 }]]), routes: new Map<string, Point[]>() };
  const sizes = new Map([["a", { width: 240, height: 100 }], ["b", { width: 240, height: 50 }],
    ["c", { width: 240, height: 50 }], ["d", { width: 240, height: 50 }]]);  // a grew from 50 to 100
  const next = stabilize(previous, { positions: new Map([...previous.positions].map(([k, v]) => [k, { ...v }])),
    routes: new Map() }, sizes);
  assert.deepEqual(Object.fromEntries(next.positions), { a: { x: 0, y: 0 }, b: { x: 0, y: 116 },
    c: { x: 300, y: 70 }, d: { x: 0, y: 182 } });
  assert.deepEqual(previous.positions.get("b"), { x: 0, y: 70 });  // the previous placement is not changed
});

test("positions diff, layout key and route checks", () => {
  const a = new Map([["x", { x: 0, y: 0 }], ["y", { x: 10, y: 10 }]]);
  const b = new Map([["x", { x: 0, y: 1 }], ["y", { x: 30, y: 10 }], ["z", { x: 0, y: 0 }]]);
  assert.deepEqual(movedNodes(a, b), ["y"]);
  const graph = webClassification();
  const key = layoutKey(toGraphView({ graph, runs: {}, problems: {} }));
  const valueChanged = webClassification();
  valueChanged.nodes[1].inputs.deployment_name = "gpt-4";
  assert.equal(layoutKey(toGraphView({ graph: valueChanged, runs: { score: { status: "Running" } }, problems: {} })),
    key);
  valueChanged.edges.pop();
  assert.notEqual(layoutKey(toGraphView({ graph: valueChanged, runs: {}, problems: {} })), key);
  assert.ok(routeFits([{ x: 0, y: 0 }, { x: 5, y: 0 }, { x: 5, y: 9 }], { x: 1, y: 0 }, { x: 5, y: 9 }));
  assert.ok(!routeFits([{ x: 0, y: 0 }, { x: 5, y: 9 }], { x: 0, y: 50 }, { x: 5, y: 9 }));
  assert.equal(roundedPath([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 10 }], 4),
    "M 0 0 L 6 0 Q 10 0 10 4 L 10 10");
});
