"""Quick fixes for problems: replace a mistyped name, create a missing tool file, add a missing flow
input, add a missing required node input, create a connection the store lacks. Each is a set of text
edits (and files to create), or a command the editor runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flowline.flow.files import Reader, read_disk, resolve_source
from flowline.flow.model import Flow, Node
from flowline.flow.parse import Document, YMap, YNode, YSeq
from flowline.flow.problems import Problem
from flowline.flow.spans import Span
from flowline.service.yaml_edit import EditError, set_in
from flowline.service.yaml_text import layout


@dataclass(frozen=True)
class FileEdit:
    """Replace ``span`` of ``path`` with ``new_text`` (an empty span inserts)."""

    path: Path
    span: Span
    new_text: str


@dataclass(frozen=True)
class Command:
    """An editor command a quick fix runs: its id and arguments."""

    id: str
    arguments: tuple[str, ...] = ()


CREATE_CONNECTION = "flowline.createConnection"
"""The extension's "Create Connection..." flow; its argument is the name to fill in."""


@dataclass(frozen=True)
class Action:
    """A quick fix: its title, the files it creates first, and its edits; or a command to run."""

    title: str
    edits: tuple[FileEdit, ...]
    creates: tuple[Path, ...] = ()
    command: Command | None = None


def _node_map(root: YNode | None, node: Node) -> YMap | None:
    nodes = root.get("nodes") if isinstance(root, YMap) else None
    if not isinstance(nodes, YSeq):
        return None
    return next((item for item in nodes.items if isinstance(item, YMap) and item.span == node.span), None)


FLOWLINE_IMPORT = "from flowline import tool"
PROMPTFLOW_IMPORT = "from promptflow.core import tool"
_PROMPTFLOW = re.compile(r"^\s*(?:from|import)\s+promptflow\b", re.MULTILINE)


def tool_import(flow: Flow, read: Reader = read_disk) -> str:
    """How a new tool file of ``flow`` imports ``tool``: from ``promptflow.core`` when one of the
    flow's tool files imports promptflow (a flow written for Prompt flow keeps running there; both
    spellings run here), else Flowline's own."""
    for node in flow.nodes:
        path = node.source.path if node.type == "python" and node.source is not None else None
        if path is not None and path.endswith(".py"):
            text = read(resolve_source(flow, path))
            if text is not None and _PROMPTFLOW.search(text):
                return PROMPTFLOW_IMPORT
    return FLOWLINE_IMPORT


def stub_text(kind: str, name: str, inputs: list[str], import_line: str = FLOWLINE_IMPORT) -> str:
    """The first text of a new node's source file: a ``@tool`` function taking ``inputs`` or a
    template using them. A node added without inputs gets a function with an optional parameter
    and a template without variables, so it is valid before the user gives it inputs."""
    if kind == "python":
        params = ", ".join(f"{n}: str" for n in inputs) if inputs else 'text: str = ""'
        first = inputs[0] if inputs else "text"
        return (f"{import_line}\n\n\n@tool\ndef {name}({params}) -> str:\n"
                f"    \"\"\"What the node '{name}' does.\"\"\"\n    return {first}\n")
    hint = "{# A node input 'x' is written {{ x }} here. #}\n"
    body = "\n".join(f"{{{{ {n} }}}}" for n in inputs) if inputs else "Say hello."
    header = "# system:\nYou are a helpful assistant.\n\n# user:\n" if kind in ("llm", "custom_llm") else ""
    return header + body + "\n" + hint


def _stub(flow: Flow, node: Node, read: Reader) -> tuple[Path, str] | None:
    if node.source is None or not node.source.path:
        return None
    inputs = [i.name for i in node.inputs]
    return resolve_source(flow, node.source.path), stub_text(node.type or "", node.name, inputs,
                                                              tool_import(flow, read))


def _added(flow: Flow, document: Document, mapping: YMap | None, path: tuple[str, str], value: object,
           title: str) -> list[Action]:
    """The action setting ``path`` in ``mapping`` (none when the YAML there is not a mapping)."""
    if mapping is None:
        return []
    try:
        edits = set_in(layout(document.text, document.root), mapping, path, value)
    except EditError:
        return []  # the flow holds something else where the mapping should be; its own problem says so
    return [Action(title, tuple(FileEdit(flow.path, span, text) for span, text in edits))]


def actions_for(flow: Flow, document: Document, problem: Problem, read: Reader = read_disk) -> list[Action]:
    """The quick fixes of one problem of ``flow``, parsed as ``document`` (``read`` gives the text of
    the flow's other files, for the import a new tool file uses)."""
    actions = []
    root = document.root
    if problem.fix is not None:
        actions.append(Action(problem.fix.title, (FileEdit(flow.path, problem.fix.span, problem.fix.new_text),)))
    if problem.code == "source-not-found" and problem.subject:
        node = flow.node(problem.subject)
        stub = _stub(flow, node, read) if node else None
        if stub is not None:
            path, text = stub
            actions.append(Action(f"Create {path.name}", (FileEdit(path, Span.point(0, 0), text),), (path,)))
    if problem.code == "unknown-input" and problem.subject:
        actions += _added(flow, document, root if isinstance(root, YMap) else None, ("inputs", problem.subject),
                          {"type": "string"}, f"Add flow input '{problem.subject}'")
    if problem.code == "unknown-connection" and problem.subject:
        actions.append(Action(f"Create connection '{problem.subject}'...", (),
                              command=Command(CREATE_CONNECTION, (problem.subject,))))
    if problem.code == "missing-parameter" and problem.subject:
        node = next((n for n in flow.nodes if n.name_span == problem.span), None)
        if node is not None:
            actions += _added(flow, document, _node_map(root, node), ("inputs", problem.subject), None,
                              f"Add input '{problem.subject}' to node '{node.name}'")
    return actions
