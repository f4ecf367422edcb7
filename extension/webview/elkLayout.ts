/**
 * ELK in a Web Worker for the visual editor. The webview's CSP allows no script from elsewhere and
 * VS Code serves the bundle from another origin than the page's, so the worker starts from a Blob
 * URL made of elkjs's worker script, which the bundle carries as text (`worker-src blob:`).
 * elkjs needs no `eval`.
 */

import ELK, { type ELK as ElkApi } from "elkjs/lib/elk-api.js";
import workerSource from "elk-worker-source";
import { elkGraph, type ElkGraphOut, type Placement, placement, stabilize } from "../src/graphLayout";
import type { GraphView } from "../src/graphModel";

let elk: ElkApi | undefined;

function workerFactory(): Worker {
  const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
  return new Worker(url, { name: "elk" });
}

/** Starts the worker now (it parses ~1.6 MB of script), so the first layout does not wait for it. */
export function startElk(): ElkApi {
  elk ??= new ELK({ workerFactory });
  return elk;
}

/**
 * Lays a view out: afresh without `previous`, else from the previous placement (which keeps every
 * node that was there where it was: see `stabilize`).
 */
export async function layOut(view: GraphView, previous?: Placement): Promise<Placement> {
  const before = previous?.positions;
  if (before && view.nodes.filter((n) => before.has(n.id)).length * 2 < view.nodes.length) {
    previous = undefined;  // mostly another graph: nothing to keep in place
  }
  const out = await startElk().layout(elkGraph(view, previous?.positions) as never) as ElkGraphOut;
  const fresh = placement(out);
  if (!previous || previous.positions.size === 0) {
    return fresh;
  }
  const sizes = new Map(view.nodes.map((n) => [n.id, { width: n.width, height: n.height }]));
  return stabilize(previous, fresh, sizes);
}
