"""Human-readable run progress on stderr: one compact line per node, logs indented under it."""

from __future__ import annotations

from typing import IO

from flowline.engine.events import Event

_MARKS = {"Completed": "ok", "Failed": "FAILED", "Bypassed": "bypassed", "Canceled": "canceled"}


def _duration(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


class ConsoleSink:
    """Writes node progress, captured output and failures to a stream meant for people."""

    def __init__(self, stream: IO[str], color: bool = False) -> None:
        self._stream = stream
        self._color = color
        self._streaming: str | None = None

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self._color else text

    def __call__(self, event: Event) -> None:
        if event.type == "llm_token":
            if self._streaming != event.node:
                self._end_stream()
                self._stream.write(f"  [{event.node}] ")
                self._streaming = event.node
            self._stream.write(event.message or "")
            self._stream.flush()
            return
        line = self._format(event)
        if line is not None:
            self._end_stream()
            self._stream.write(line + "\n")
            self._stream.flush()

    def _end_stream(self) -> None:
        if self._streaming is not None:
            self._stream.write("\n")
            self._streaming = None

    def _format(self, event: Event) -> str | None:
        if event.type == "log":
            return f"  [{event.node}] {event.message}"
        if event.type == "node_end":
            mark = _MARKS.get(event.status or "", event.status or "")
            code = {"Completed": "32", "Failed": "31"}.get(event.status or "", "2")
            text = f"{self._paint(mark.rjust(8), code)}  {event.node}  {_duration(event.duration_ms)}".rstrip()
            if event.tokens:
                text += f"  {event.tokens.get('total', 0)} tokens"
            if event.error is not None:
                where = f" ({event.error.file}:{event.error.line})" if event.error.file else ""
                text += f"\n          {event.error.type}: {event.error.message}{where}"
            return text
        if event.type == "run_end" and event.status != "Completed":
            failed = event.extra.get("failed_node")
            subject = f"node '{failed}'" if failed else "the flow"
            message = f"{event.error.type}: {event.error.message}" if event.error else "failed"
            return self._paint(f"Run failed in {subject}: {message}", "31")
        return None
