"""Quick fixes for problems: replace a mistyped name, create a missing tool file, add a missing flow
input, add a missing required node input. Each is a set of text edits (and files to create)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flowline.flow.files import resolve_source
from flowline.flow.model import Flow, Node
from flowline.flow.parse import YMap, YNode, YSeq, block_end_line
from flowline.flow.problems import Problem
from flowline.flow.spans import Span


@dataclass(frozen=True)
class FileEdit:
    """Replace ``span`` of ``path`` with ``new_text`` (an empty span inserts)."""

    path: Path
    span: Span
    new_text: str


@dataclass(frozen=True)
class Action:
    """A quick fix: its title, the files it creates first, and its edits."""

    title: str
    edits: tuple[FileEdit, ...]
    creates: tuple[Path, ...] = ()


def _node_map(root: YNode | None, node: Node) -> YMap | None:
    nodes = root.get("nodes") if isinstance(root, YMap) else None
    if not isinstance(nodes, YSeq):
        return None
    return next((item for item in nodes.items if isinstance(item, YMap) and item.span == node.span), None)


def _insert_at(line: int) -> Span:
    return Span.point(line, 0)


def stub_text(kind: str, name: str, inputs: list[str]) -> str:
    """The first text of a new node's source file: a ``@tool`` function or a template."""
    names = inputs or ["text"]
    if kind == "python":
        params = ", ".join(f"{n}: str" for n in names)
        return (f"from flowline import tool\n\n\n@tool\ndef {name}({params}) -> str:\n"
                f"    \"\"\"What the node '{name}' does.\"\"\"\n    return {names[0]}\n")
    variables = "\n".join(f"{{{{ {n} }}}}" for n in names)
    header = "# user:\n" if kind in ("llm", "custom_llm") else ""
    return header + variables + "\n"


def _stub(flow: Flow, node: Node) -> tuple[Path, str] | None:
    if node.source is None or not node.source.path:
        return None
    inputs = [i.name for i in node.inputs]
    return resolve_source(flow, node.source.path), stub_text(node.type or "", node.name, inputs)


def actions_for(flow: Flow, root: YNode | None, problem: Problem) -> list[Action]:
    """The quick fixes of one problem."""
    actions = []
    if problem.fix is not None:
        actions.append(Action(problem.fix.title, (FileEdit(flow.path, problem.fix.span, problem.fix.new_text),)))
    if problem.code == "source-not-found" and problem.subject:
        node = flow.node(problem.subject)
        stub = _stub(flow, node) if node else None
        if stub is not None:
            path, text = stub
            actions.append(Action(f"Create {path.name}", (FileEdit(path, Span.point(0, 0), text),), (path,)))
    if problem.code == "unknown-input" and problem.subject:
        inputs = root.get("inputs") if isinstance(root, YMap) else None
        entry = f"  {problem.subject}:\n    type: string\n"
        if isinstance(inputs, YMap) and inputs.items:
            edit = FileEdit(flow.path, _insert_at(block_end_line(inputs)), entry)
        else:
            edit = FileEdit(flow.path, _insert_at(0), "inputs:\n" + entry)
        actions.append(Action(f"Add flow input '{problem.subject}'", (edit,)))
    if problem.code == "missing-parameter" and problem.subject:
        node = next((n for n in flow.nodes if n.name_span == problem.span), None)
        block = _node_map(root, node) if node else None
        if block is not None:
            inputs = block.get("inputs")
            if isinstance(inputs, YMap) and inputs.items:
                indent = " " * inputs.items[0][0].span.start_col
                edit = FileEdit(flow.path, _insert_at(block_end_line(inputs)), f"{indent}{problem.subject}: \n")
            else:
                indent = " " * block.items[0][0].span.start_col
                edit = FileEdit(flow.path, _insert_at(block_end_line(block)),
                                f"{indent}inputs:\n{indent}  {problem.subject}: \n")
            actions.append(Action(f"Add input '{problem.subject}' to node '{node.name if node else ''}'", (edit,)))
    return actions
