"""Fetch a page and keep its visible text. Accepts http(s) URLs, file:// URLs and local paths."""

import urllib.request
from html.parser import HTMLParser
from pathlib import Path

from flowline import tool

MAX_CHARS = 2000


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def _read(url: str) -> str:
    if url.startswith(("http://", "https://")):
        request = urllib.request.Request(url, headers={"User-Agent": "Mozilla/5.0 (flowline sample)"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode("utf-8", errors="replace")
    path = Path(url[len("file://"):] if url.startswith("file://") else url)
    if not path.is_absolute():
        path = Path(__file__).parent / path
    return path.read_text(encoding="utf-8")


@tool
def fetch_text_content_from_url(url: str) -> str:
    """The page's visible text, at most 2000 characters; a readable message when it cannot be fetched."""
    try:
        parser = _Text()
        parser.feed(_read(url))
        return " ".join(parser.parts)[:MAX_CHARS]
    except Exception as exc:  # the flow still runs and the classifier sees why
        print(f"could not fetch {url}: {exc}")
        return "No available content"
