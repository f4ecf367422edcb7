/**
 * Moving around the visual editor's graph from the keyboard and the search box (pure; unit-tested):
 * the node an arrow key goes to from the focused one, and the nodes a typed name finds.
 */

import type { Point } from "./graphLayout";

export interface Placed {
  id: string;
  position: Point;
  width: number;
  height: number;
}

function centre(node: Placed): Point {
  return { x: node.position.x + node.width / 2, y: node.position.y + node.height / 2 };
}

/**
 * The nearest node in the arrow's direction: among the nodes whose centre lies that way (more that way
 * than across), the one at the smallest distance, the sideways offset counting double.
 */
export function neighbour(nodes: readonly Placed[], from: string, key: string): string | null {
  const start = nodes.find((n) => n.id === from);
  const direction: Record<string, Point> = { ArrowRight: { x: 1, y: 0 }, ArrowLeft: { x: -1, y: 0 },
    ArrowDown: { x: 0, y: 1 }, ArrowUp: { x: 0, y: -1 } };
  const d = direction[key];
  if (!start || !d) {
    return null;
  }
  const origin = centre(start);
  let best: { id: string; score: number } | null = null;
  for (const node of nodes) {
    if (node.id === from) {
      continue;
    }
    const c = centre(node);
    const along = (c.x - origin.x) * d.x + (c.y - origin.y) * d.y;
    const across = Math.abs((c.x - origin.x) * d.y + (c.y - origin.y) * d.x);
    if (along <= 0 || across > along * 2 + 40) {
      continue;
    }
    const score = along + across * 2;
    if (!best || score < best.score) {
      best = { id: node.id, score };
    }
  }
  return best?.id ?? null;
}

/** The ids whose name matches `query` (case-insensitive): exact names first, then prefixes, then the rest. */
export function searchNodes(ids: readonly string[], query: string): string[] {
  const q = query.trim().toLowerCase();
  if (!q) {
    return [];
  }
  const name = (id: string) => id.replace(/^(inputs|outputs)\./, "").toLowerCase();
  const rank = (id: string) => (name(id) === q ? 0 : name(id).startsWith(q) ? 1 : 2);
  return ids.filter((id) => name(id).includes(q)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
