/**
 * Which editor group a file opened from a webview goes to. `ViewColumn.Beside` means "right of the
 * active group" and makes a new group when the active one is the last: a file opened from the visual
 * editor, which usually stands beside the flow's text, would land in a third group. The group beside
 * it that exists is taken instead. Pure (unit-tested in plain Node).
 */

/**
 * The existing group next to group `from` (1-based view columns): the one right of it, else the one
 * left of it; undefined when `from` is the only group (open beside it then).
 */
export function besideColumn(from: number, columns: readonly number[]): number | undefined {
  const others = [...new Set(columns)].filter((c) => c !== from).sort((a, b) => a - b);
  return others.find((c) => c > from) ?? others.filter((c) => c < from).pop();
}
