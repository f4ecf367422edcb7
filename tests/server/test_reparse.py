"""Re-parsing after an edit gives exactly what a full parse gives, and reuses the untouched nodes."""

from __future__ import annotations

from pathlib import Path

from conftest import SAMPLES
from flowline.flow.build import NodeCache, load_flow_text
from flowline.flow.parse import Document, YMap, YSeq, parse
from flowline.flow.reparse import reparse
from hypothesis import given, settings
from hypothesis import strategies as st
from random_edits import SNIPPETS, apply


def chain(nodes: int, indent: str = "") -> str:
    lines = ["inputs:", "  text:", "    type: string", "outputs:", "  out:", f"    reference: ${{n{nodes - 1}.output}}",
             "nodes:"]
    for i in range(nodes):
        previous = "${inputs.text}" if i == 0 else f"${{n{i - 1}.output}}"
        lines += [f"{indent}- name: n{i}", f"{indent}  type: python", f"{indent}  source:",
                  f"{indent}    type: code", f"{indent}    path: t.py", f"{indent}  inputs:",
                  f"{indent}    text: {previous}  # from the node before", ""]
    return "\n".join(lines + ["environment_variables:", "  A: b", ""])


def same(left: Document, right: Document) -> bool:
    # repr, not ==: a `.nan` value is not equal to itself
    return repr((left.root, left.problems)) == repr((right.root, right.problems))


def nodes_of(document: Document) -> tuple[YMap, ...]:
    assert isinstance(document.root, YMap)
    seq = document.root.get("nodes")
    assert isinstance(seq, YSeq)
    return seq.items  # type: ignore[return-value]


def test_typing_inside_a_node_reparses_only_that_node() -> None:
    before = parse(chain(20))
    text = before.text.replace("n5.output}", "n5.outpu}")
    after = reparse(before, text)
    assert same(after, parse(text))
    old, new = nodes_of(before), nodes_of(after)
    assert all(new[i] is old[i] for i in range(20) if i != 6)
    assert new[6] is not old[6]


def test_a_new_line_moves_the_nodes_below_it() -> None:
    before = parse(chain(20))
    text = before.text.replace("    text: ${n2.output}  # from the node before",
                               "    text: ${n2.output}  # from the node before\n    n: 2")
    after = reparse(before, text)
    assert same(after, parse(text))
    old, new = nodes_of(before), nodes_of(after)
    assert all(new[i] is old[i] for i in range(3))
    assert new[4].span.start_line == old[4].span.start_line + 1
    environment = after.root.get("environment_variables") if isinstance(after.root, YMap) else None
    assert environment is not None and environment.span.start_line == before.text.count("\n")


def test_a_node_added_between_two_nodes() -> None:
    before = parse(chain(5, indent="  "))
    text = before.text.replace("  - name: n3", "  - name: extra\n    type: python\n\n  - name: n3")
    after = reparse(before, text)
    assert same(after, parse(text))
    assert [m.get("name").value for m in nodes_of(after)] == ["n0", "n1", "n2", "extra", "n3", "n4"]  # type: ignore[union-attr]


def test_edits_that_change_the_structure_fall_back_to_a_full_parse() -> None:
    before = parse(chain(5))
    for text in (
        before.text.replace("  type: python\n  source:", "type: python\n  source:", 1),  # a key at the top level
        before.text.replace("- name: n4", "- name: n4 &anchor"),  # an anchor
        before.text.replace("  A: b", "  A: c"),  # outside the nodes
        before.text.replace("n3.output}", "n3.output").replace("- name: n1", "- name: m1"),  # two nodes
        before.text.replace("- name: n2\n", "- name: 'n2\n"),  # a syntax error
    ):
        assert same(reparse(before, text), parse(text))


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(flow=st.sampled_from(["chain", "hello", "web-classification", "conditional"]),
       steps=st.lists(st.tuples(st.integers(0, 5000), st.sampled_from(SNIPPETS + ["\n    n: 1", "\n- name: y\n"]),
                                st.booleans()), min_size=1, max_size=4))
def test_reparse_matches_a_full_parse(flow: str, steps: list[tuple[int, str, bool]]) -> None:
    text = chain(12) if flow == "chain" else (SAMPLES / flow / "flow.dag.yaml").read_text()
    document = parse(text)
    for where, snippet, delete in steps:
        text = apply(text, [("delete", where, len(snippet)) if delete else ("insert", where, snippet)])
        document = reparse(document, text)
        assert same(document, parse(text)), text


def test_nodes_of_untouched_items_are_reused_by_the_builder(tmp_path: Path) -> None:
    cache: NodeCache = {}
    path = tmp_path / "flow.dag.yaml"
    first, document = load_flow_text(chain(10), path, None, cache)
    # one edit gives node n3 a problem of shape, the next one changes node n6
    text = document.text.replace("- name: n3\n  type: python\n", "- name: n3\n  type: python\n  activate: 1\n")
    second, document = load_flow_text(text, path, document, cache)
    text = text.replace("n5.output}", "n5.outpu}")
    third, document = load_flow_text(text, path, document, cache)
    fresh, _ = load_flow_text(text, path)
    assert third == fresh and third.problems == fresh.problems and len(third.problems) == 1
    assert third.nodes[0] is first.nodes[0] and third.nodes[3] is second.nodes[3]
    assert third.nodes[6] is not second.nodes[6]
    assert len(cache) == 10
