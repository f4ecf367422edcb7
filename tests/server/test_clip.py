"""Run values cut down for the editor (engine/clip.py): exact limits, markers that say how much is
left out, unicode, deep and wide structures, the total of one event, and clipping twice."""

from __future__ import annotations

import json
import time
from typing import Any

from flowline.engine.clip import DEPTH, SHORT, TEXT, TOTAL, WHOLE, clip
from hypothesis import given, settings
from hypothesis import strategies as st

WHERE = "run `flowline flow test --events FILE` for the whole value"


def size(value: Any) -> int:
    """Characters of compact JSON, as the limits count them."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def test_values_within_the_limits_are_passed_on_as_they_are() -> None:
    event = {"type": "node_end", "run_id": "r", "node": "a", "output": {"text": "x" * 1000, "n": [1, 2.5, None, True]}}
    assert clip(event) == event


def test_a_string_one_character_over_the_limit_is_cut_to_the_limit_with_a_marker_saying_what_was_left_out() -> None:
    assert WHOLE == WHERE
    assert clip("a" * 1000, text=1000) == "a" * 1000
    cut = clip("a" * 1001, text=1000)
    assert isinstance(cut, str) and len(cut) == 1000
    marker = f"… [{1001 - cut.index('…'):,} more characters; {WHERE}]"
    assert cut == "a" * cut.index("…") + marker
    assert cut.endswith("… [83 more characters; run `flowline flow test --events FILE` for the whole value]")


def test_the_count_of_characters_left_out_is_exact_and_grouped_by_thousands() -> None:
    cut = clip("y" * 5_000_000)
    assert len(cut) == TEXT
    kept = cut.index("…")
    assert cut[:kept] == "y" * kept and cut[kept:] == f"… [{5_000_000 - kept:,} more characters; {WHERE}]"
    assert "[4,934," in cut


def test_unicode_is_cut_between_characters_never_inside_one() -> None:
    cut = clip("😀" * 3000 + "é" * 3000, text=2000)
    assert len(cut) == 2000 and cut.startswith("😀" * 1900)
    cut.encode("utf-8")  # no half of a character: it encodes
    kept = cut.index("…")
    assert cut[kept:] == f"… [{6000 - kept:,} more characters; {WHERE}]"
    assert clip("日本語" * 10, text=30) == "日本語" * 10


def test_a_long_list_or_object_keeps_its_first_items_and_a_marker_item() -> None:
    assert clip(list(range(10)), items=10) == list(range(10))
    assert clip(list(range(11)), items=10) == [*range(9), f"… [2 more items; {WHERE}]"]
    wide = {f"k{i}": i for i in range(11)}
    assert clip(wide, items=10) == {**{f"k{i}": i for i in range(9)}, "…": f"… [2 more keys; {WHERE}]"}
    taken = {"…": "mine", **{f"k{i}": i for i in range(20)}}
    assert clip(taken, items=3) == {"…": "mine", "k0": 0, "……": f"… [19 more keys; {WHERE}]"}


def test_nested_values_are_cut_at_every_depth() -> None:
    value = {"a": [{"b": "z" * 500, "c": list(range(50))}], "d": {"e": {"f": "w" * 500}}}
    cut = clip(value, text=300, items=20)
    assert len(cut["a"][0]["b"]) == 300 and cut["a"][0]["b"].endswith(WHERE + "]")
    assert cut["a"][0]["c"] == [*range(19), f"… [31 more items; {WHERE}]"]
    assert len(cut["d"]["e"]["f"]) == 300


def test_very_deep_values_keep_only_markers_below_the_depth_limit_and_never_overflow_the_stack() -> None:
    deep: Any = "end"
    for _ in range(5000):
        deep = [deep]
    cut = clip(deep)
    depth = 0
    while isinstance(cut, list) and cut and isinstance(cut[0], list):
        cut, depth = cut[0], depth + 1
    assert depth == DEPTH + 1 and cut == [f"… [1 more items; {WHERE}]"]


def test_one_event_stays_within_the_total_and_its_short_fields_stay_whole() -> None:
    event = {"type": "node_end", "run_id": "flow_20250101_000000_abc", "node": "t", "status": "Completed",
             "output": [f"{i}" * TEXT for i in range(40)], "end": "2025-01-01T00:00:00+00:00"}
    cut = clip(event)
    assert size(cut) <= TOTAL
    assert {k: v for k, v in cut.items() if k != "output"} == {k: v for k, v in event.items() if k != "output"}
    lengths = {len(text) for text in cut["output"]}
    assert len(lengths) == 1 and SHORT < lengths.pop() < TEXT  # all cut alike, as long as they fit
    assert cut["output"][0].startswith("0" * 1000)


def test_many_small_values_cut_the_nested_lists_and_keep_the_event_fields() -> None:
    event = {"type": "run_end", "run_id": "r", "status": "Completed",
             "output": [[[i * j * k for k in range(100)] for j in range(100)] for i in range(100)]}
    cut = clip(event)
    assert size(cut) <= TOTAL
    assert cut["type"] == "run_end" and cut["status"] == "Completed"
    rows = cut["output"]
    assert isinstance(rows[-1], str) and rows[-1].startswith("… [") and rows[-1].endswith(" more items; " + WHERE + "]")
    assert rows[1][1][:3] == [0, 1, 2]


def test_clipping_a_clipped_value_changes_nothing() -> None:
    for value in ("x" * 100_000, list(range(5000)), {"a": ["é" * 70_000] * 30, "b": {str(i): i for i in range(2000)}}):
        once = clip(value)
        assert clip(once) == once


def test_a_100_mb_string_is_clipped_at_once() -> None:
    huge = "hello" * 20_000_000
    started = time.perf_counter()
    cut = clip({"type": "run_end", "output": {"out": huge}})
    assert time.perf_counter() - started < 0.5
    assert len(cut["output"]["out"]) == TEXT


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(max_size=700),
                    lambda inner: st.lists(inner, max_size=12) | st.dictionaries(st.text(max_size=400), inner,
                                                                                 max_size=12),
                    max_leaves=200)


@given(JSON)
@settings(max_examples=150, deadline=None)
def test_any_json_value_fits_the_limits_and_clips_to_itself_again(value: Any) -> None:
    cut = clip(value, text=SHORT + 100, items=5, total=6000)
    assert size(cut) <= 6000 + 100  # about: the total counts no escapes, and a comma per item

    def check(node: Any, depth: int) -> None:
        if isinstance(node, str):
            assert len(node) <= SHORT + 100
        elif isinstance(node, (list, dict)):
            assert len(node) <= 5
            for item in node.values() if isinstance(node, dict) else node:
                check(item, depth + 1)

    check(cut, 0)
    assert clip(cut, text=SHORT + 100, items=5, total=6000) == cut
