"""Reading a ``.env`` file (``--environment-variables FILE.env``) by python-dotenv's rules, which
promptflow 1.18.5 reads it with (``dotenv_values``):

- blank lines and lines starting with ``#`` are skipped; ``export`` before a key is ignored;
- a key is a word (or ``'quoted'``), then ``=``; spaces around ``=`` are ignored;
- an unquoted value ends at the line's end, a `` #`` (a ``#`` after a space) starts a comment, and the
  value's trailing spaces go: ``HASH=value # note`` is ``value``, ``A=x#y`` is ``x#y``;
- a ``'single'``-quoted value is taken as written (``\\'`` and ``\\\\`` excepted), a ``"double"``-quoted one
  reads the escapes ``\\n \\t \\r \\" \\' \\\\ \\a \\b \\f \\v``; either may span lines; a comment may follow.

Departures: ``${NAME}`` is left as written (python-dotenv expands it from the environment; here a
``${connection.field}`` value reads a connection, see :func:`flowline.engine.prepare.run_environment`), and a
line python-dotenv skips with a warning (no ``=``, text after a closing quote) is an error naming its line.
"""

from __future__ import annotations

import codecs
import re

_BLANK = re.compile(r"\s*")
_KEY = re.compile(r"(?:export[^\S\r\n]+)?(?:'([^']+)'|([^=#\s]+))[^\S\r\n]*=[^\S\r\n]*")
_SINGLE = re.compile(r"'((?:\\'|[^'])*)'")
_DOUBLE = re.compile(r'"((?:\\"|[^"])*)"')
_UNQUOTED = re.compile(r"[^\r\n]*")
_END = re.compile(r"[^\S\r\n]*(?:#[^\r\n]*)?(?:\r\n|\n|\r|$)")
_SINGLE_ESCAPES = re.compile(r"\\[\\']")
_DOUBLE_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")


class EnvFileError(ValueError):
    """A line that is not ``KEY=VALUE``; the message names its line number and text."""


def _decode(escapes: re.Pattern[str], text: str) -> str:
    return escapes.sub(lambda m: codecs.decode(m.group(0), "unicode-escape"), text)


def _skip(pattern: re.Pattern[str], text: str, at: int) -> int:
    """Where ``pattern`` (one that may match nothing) ends when matched at ``at``."""
    found = pattern.match(text, at)
    return found.end() if found is not None else at


def parse_env(text: str) -> dict[str, str]:
    """The variables a ``.env`` file's text sets, in order (a later key wins). Raises :class:`EnvFileError`."""
    values: dict[str, str] = {}
    at = 0
    while True:
        at = _skip(_BLANK, text, at)
        if at >= len(text):
            return values
        if text[at] == "#":
            at = _skip(_END, text, at)
            continue
        key = _KEY.match(text, at)
        value, end = None, None
        if key is not None:
            quote = text[key.end():key.end() + 1]
            found = (_SINGLE if quote == "'" else _DOUBLE if quote == '"' else _UNQUOTED).match(text, key.end())
            end = _END.match(text, found.end()) if found is not None else None
            if found is not None and end is not None:
                if quote == "'":
                    value = _decode(_SINGLE_ESCAPES, found.group(1))
                elif quote == '"':
                    value = _decode(_DOUBLE_ESCAPES, found.group(1))
                else:
                    value = re.sub(r"\s+#.*", "", found.group(0)).rstrip()
        if key is None or value is None or end is None:
            line = text.count("\n", 0, at) + 1
            raise EnvFileError(f"line {line} is not KEY=VALUE: {text[at:].splitlines()[0]}")
        values[key.group(1) or key.group(2)] = value
        at = end.end()
