"""Reading stored runs back: per-line details, a text table, and an offline HTML report."""

from __future__ import annotations

import html
import json
import unicodedata
from pathlib import Path
from typing import Any

from flowline.runs.report_images import image_html
from flowline.runs.store import RunFolder, RunRecord


def details(record: RunRecord, max_results: int | None = None) -> list[dict[str, Any]]:
    """``{line_number, status, inputs, outputs, error}`` per line, in line order."""
    lines = RunFolder(record.folder).lines()
    rows = [{"line_number": n, "status": r.get("status"), "inputs": r.get("inputs") or {},
             "outputs": r.get("outputs"), "error": r.get("error")} for n, r in sorted(lines.items())]
    return rows[:max_results] if max_results else rows


def _char_width(c: str) -> int:
    return 0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) and fullwidth characters take two, combining
    marks none."""
    return sum(_char_width(c) for c in text)


# Control characters (a tab, a newline, a terminal's escape) would move the columns after them: a space each.
_CONTROLS_AS_SPACES = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)], " ")


def _cell(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.translate(_CONTROLS_AS_SPACES)
    if display_width(text) <= width:
        return text
    # One pass over the start of the text (a cell may hold a whole large output).
    used, end = 0, 0
    for end, c in enumerate(text):  # noqa: B007 (end is where the cut goes, read after the loop)
        used += _char_width(c)
        if used > width - 1:
            break
    return text[:end] + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def details_table(rows: list[dict[str, Any]]) -> str:
    """A readable table: one row per line, one column per input and output."""
    inputs = sorted({k for r in rows for k in r["inputs"]})
    outputs = sorted({k for r in rows for k in (r["outputs"] or {})})
    header = ["line", "status"] + [f"inputs.{k}" for k in inputs] + [f"outputs.{k}" for k in outputs] + ["error"]
    table = [header]
    for r in rows:
        error = r["error"] or {}
        table.append([str(r["line_number"]), str(r["status"])] + [_cell(r["inputs"].get(k, "")) for k in inputs]
                     + [_cell((r["outputs"] or {}).get(k, "")) for k in outputs]
                     + [_cell(f"{error.get('type')}: {error.get('message')}" if error else "", 60)])
    widths = [max(display_width(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


# Colours come from VS Code's theme when the report is shown in a webview (its --vscode-* variables),
# else from the browser's light or dark scheme.
_STYLE = """
:root{--fg:#1f2328;--bg:#fff;--head:#f6f8fa;--line:#d0d7de;--diff:#fff3bf;--failed:#ffebe9;--bar:#2f81f7}
@media (prefers-color-scheme: dark){:root{--fg:#e6edf3;--bg:#0d1117;--head:#161b22;--line:#30363d;
--diff:#3d3000;--failed:#4c1d1d;--bar:#4493f8}}
body{font-family:var(--vscode-font-family,system-ui,sans-serif);margin:24px;color:var(--vscode-foreground,var(--fg));
background:var(--vscode-editor-background,var(--bg))}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin-top:8px}
th,td{border:1px solid var(--vscode-panel-border,var(--line));padding:4px 8px;text-align:left;vertical-align:top;
max-width:420px}
th{background:var(--vscode-editorWidget-background,var(--head))}
td.diff{background:var(--vscode-diffEditor-insertedTextBackground,var(--diff))}
td.failed{background:var(--vscode-inputValidation-errorBackground,var(--failed))}
.bar{display:inline-block;height:12px;background:var(--vscode-charts-blue,var(--bar));vertical-align:middle;
margin-right:6px}
.metric{margin:6px 0}.name{display:inline-block;width:260px;overflow:hidden;text-overflow:ellipsis}
pre{margin:0;white-space:pre-wrap;font-family:var(--vscode-editor-font-family,ui-monospace,monospace);font-size:12px}
img.image{max-width:160px;max-height:160px;margin:2px;vertical-align:top}
"""


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)


def render_report(records: list[RunRecord]) -> str:
    """The report as one self-contained HTML page (no scripts, styles or fonts from the network)."""
    esc = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Flowline runs</title>",
             f"<style>{_STYLE}</style></head><body><h1>Flowline runs: {esc(', '.join(r.name for r in records))}</h1>"]
    parts.append("<h2>Runs</h2><table><tr><th>run</th><th>status</th><th>lines</th><th>failed</th>"
                 "<th>variant</th><th>evaluates</th><th>duration</th></tr>")
    for r in records:
        duration = f"{(r.duration_ms or 0) / 1000:.2f} s"
        status = esc(r.status) + (f": {esc(r.reason)}" if r.reason else "")
        parts.append(f"<tr><td>{esc(r.name)}</td><td>{status}</td><td>{r.lines_total}</td>"
                     f"<td>{r.lines_failed}</td><td>{esc(r.variant or '')}</td><td>{esc(r.parent_run or '')}</td>"
                     f"<td>{duration}</td></tr>")
    parts.append("</table>")
    metrics = [(r, RunFolder(r.folder).metrics()) for r in records]
    keys = sorted({k for _, m in metrics for k, v in m.items() if isinstance(v, (int, float))})
    parts.append("<h2>Metrics</h2>")
    if not keys:
        parts.append("<p>No numeric metrics.</p>")
    for key in keys:
        named = [(r.name, m.get(key)) for r, m in metrics]
        top = max((abs(v) for _, v in named if isinstance(v, (int, float))), default=0) or 1
        parts.append(f"<div class='metric'><b>{esc(key)}</b>")
        for name, value in named:
            width = int(240 * abs(value) / top) if isinstance(value, (int, float)) else 0
            shown = "" if value is None else esc(str(value))
            parts.append(f"<div><span class='name'>{esc(name)}</span><span class='bar' style='width:{width}px'>"
                         f"</span>{shown}</div>")
        parts.append("</div>")
    per_run = [{row["line_number"]: row for row in details(r)} for r in records]
    numbers = sorted({n for rows in per_run for n in rows})
    columns = [(field, key) for field in ("inputs", "outputs")
               for key in sorted({k for rows in per_run for row in rows.values() for k in (row[field] or {})})]
    # Each run's own value of each input and output, side by side: runs over other data or with other
    # column mappings read other inputs, so no run's inputs stand for another's.
    has = {column: [any(column[1] in (row[column[0]] or {}) for row in rows.values()) for rows in per_run]
           for column in columns}
    parts.append("<h2>Lines</h2><table><tr><th>line</th>")
    for field, key in columns:
        # A run's name above each of its columns only when there are runs to tell apart.
        parts.extend(f"<th>{esc(r.name) + '<br>' if len(records) > 1 else ''}{field}.{esc(key)}</th>"
                     for r, present in zip(records, has[(field, key)], strict=True) if present)
    parts.append("</tr>")
    for n in numbers:
        cells = [f"<td>{n}</td>"]
        for field, key in columns:
            present_rows = [(record, rows.get(n) or {})
                            for record, rows, present in zip(records, per_run, has[(field, key)], strict=True)
                            if present]
            differ = len({_text((line.get(field) or {}).get(key)) for _, line in present_rows}) > 1
            for record, line in present_rows:
                failed = field == "outputs" and line.get("status") not in (None, "Completed")
                error = line.get("error") or {}
                value = (line.get(field) or {}).get(key)
                pictures = image_html(value, record.folder)
                text = _text(value)
                content = esc(f"{error.get('type')}: {error.get('message')}") if failed and error else (
                    pictures if pictures is not None else esc(text))
                css = "failed" if failed else "diff" if differ else ""
                cells.append(f"<td class='{css}'><pre>{content}</pre></td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    failures = [(r.name, row) for r, rows in zip(records, per_run, strict=True) for row in rows.values()
                if row["status"] != "Completed"]
    parts.append("<h2>Failed lines</h2>")
    if not failures:
        parts.append("<p>None.</p>")
    else:
        parts.append("<table><tr><th>run</th><th>line</th><th>error</th></tr>")
        for name, row in failures:
            error = row["error"] or {}
            parts.append(f"<tr><td>{esc(name)}</td><td>{row['line_number']}</td><td class='failed'><pre>"
                         f"{esc(str(error.get('type')))}: {esc(str(error.get('message')))}</pre></td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def write_report(records: list[RunRecord], path: Path | None = None) -> Path:
    """Write the report (default: next to the first run's folder) and return its path."""
    target = path or records[0].folder.parent / f"visualize_{'_'.join(r.name for r in records)[:150]}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(records), encoding="utf-8")
    return target.resolve()
