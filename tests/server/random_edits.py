"""Random edits of flow texts for the property tests: deletions, insertions of YAML-ish snippets,
truncations (hypothesis strategies plus the function that applies them)."""

from __future__ import annotations

from hypothesis import strategies as st

SNIPPETS = ["${", "}", ":", "\t", "é", "😀", "- ", "\n", "{", "[", "]", "'", '"', "${inputs.", "${greet.output.",
            "  ", "#", "&a", "*a", "nodes:", "- name: x\n", "type: ", "\x00", "\r\n", "!!str ", "|\n"]

edit = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 5000), st.integers(1, 40)),
    st.tuples(st.just("insert"), st.integers(0, 5000), st.sampled_from(SNIPPETS)),
    st.tuples(st.just("truncate"), st.integers(0, 5000), st.just(0)),
)


def apply(text: str, changes: list[tuple[str, int, object]]) -> str:
    """``text`` after the changes, in order (positions wrap around the text's length)."""
    for kind, where, what in changes:
        at = where % (len(text) + 1)
        if kind == "delete":
            text = text[:at] + text[at + int(what):]  # type: ignore[call-overload]
        elif kind == "insert":
            text = text[:at] + str(what) + text[at:]
        else:
            text = text[:at]
    return text
