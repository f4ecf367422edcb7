"""Random valid flows for the property tests of the edits: a flow as data (what ``yaml.safe_load``
gives), written as YAML in a random style (keys shuffled, block or flow mappings, comments on
their own lines and after values, blank lines, LF or CRLF, indentation 2 or 4, node items
indented under ``nodes:`` or not), the tool files and templates its nodes use, and deliberate
defects whose quick fixes the test applies."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

NODE_NAMES = ["greet", "shout", "summarize", "classify", "answer_1", "x-ray"]
INPUT_NAMES = ["question", "topic", "text", "count", "mode"]
INPUT_KEYS = ["text", "name", "times", "tone", "extra"]
LITERALS: list[Any] = [
    "hello", "Hello world", "a: b", "#hash", "yes", "no", "on", "null", "123", "1.5", "", " lead", "trail ", "it's",
    'say "hi"', "x, y", "[x]", "{y}", "tab\there", "line\nbreak", "é", "😀", "${not a ref", "- dash", "?q", "!bang",
    "&amp", "*star", "%pct", "@at", "|pipe", ">gt", "a #b", "ends:", "back\\slash", 0, 7, -3, 0.5, -2.25, True, False,
    None]
LLM_PARAMETERS = {"deployment_name": "smollm2", "temperature": 0.2}
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_ .${}\-]*[A-Za-z0-9_}]|[A-Za-z_]")
_KEYWORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}


@dataclass
class Defect:
    """A deliberate mistake: ``path`` leads from the flow's data to the value (or, for ``kind`` "key",
    the mapping whose key) holding ``typo``."""

    kind: str
    path: tuple[Any, ...]
    typo: str


@dataclass
class RandomFlow:
    """A flow's data and text, the comments in the text with what owns each, and its files."""

    data: dict[str, Any]
    text: str
    eol: str
    comments: list[tuple[str, frozenset[Any]]]
    files: dict[str, str]
    defects: list[Defect] = field(default_factory=list)


class _Writer:
    """Writes data as YAML lines in the style its random source picks, recording each comment."""

    def __init__(self, rnd: random.Random, unit: int, seq_indent: int) -> None:
        self.rnd, self.unit, self.seq_indent = rnd, unit, seq_indent
        self.offset = rnd.choice([2, 2, unit])  # from a node's dash to its keys
        self.lines: list[str] = []
        self.comments: list[tuple[str, frozenset[Any]]] = []
        self.literal_ends = -1  # a literal block scalar ending the text must end with a line break

    def comment(self, owners: frozenset[Any]) -> str:
        text = f"# c{len(self.comments)}: {{not}} 'yaml' - ${{x}} #"
        self.comments.append((text, owners))
        return text

    def decorate(self, indent: int, owners: frozenset[Any]) -> None:
        if self.rnd.random() < 0.15:
            self.lines.append("")
        if self.rnd.random() < 0.25:
            self.lines.append(" " * self.rnd.choice([indent, indent, 0, indent + 1]) + self.comment(owners))

    def trailing(self, owners: frozenset[Any]) -> str:
        return "  " + self.comment(owners) if self.rnd.random() < 0.25 else ""

    def scalar(self, value: Any, flow: bool) -> str:
        if value is None:
            return self.rnd.choice(["null", "~"] + ([] if flow else [""]))
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        plain = _PLAIN.fullmatch(value) and value.lower() not in _KEYWORDS and not (flow and "{" in value)
        if plain and self.rnd.random() < 0.7:
            return value
        if value.isprintable() and self.rnd.random() < 0.5:
            return "'" + value.replace("'", "''") + "'"
        return json.dumps(value, ensure_ascii=False)

    def flow_value(self, value: Any) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k}: {self.flow_value(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow_value(v) for v in value) + "]"
        return self.scalar(value, True)

    def key(self, key: str) -> str:
        """A key, now and then quoted or with a space before its colon."""
        choice = self.rnd.random()
        return f"'{key}'" if choice < 0.05 else f'"{key}"' if choice < 0.1 else f"{key} " if choice < 0.13 else key

    def item(self, item: dict[str, Any], dash: int) -> None:
        """A node as a sequence item: its first key on the dash line, on the line below, or in flow style."""
        owners = frozenset({("node", item["name"])})
        self.decorate(dash, frozenset())
        shape = self.rnd.random()
        if shape < 0.08:
            self.lines.append(f"{' ' * dash}- {self.flow_value(item)}{self.trailing(owners)}")
        elif shape < 0.14:
            self.lines.append(f"{' ' * dash}-{self.trailing(owners)}")
            self.block_map(item, dash + self.offset, owners)
        else:
            self.block_map(item, dash + self.offset, owners, dash)

    def entry(self, key: str, value: Any, indent: int, owners: frozenset[Any], head: str | None = None) -> None:
        start = f"{head if head is not None else ' ' * indent}{self.key(key)}:"
        if isinstance(value, dict) and (not value or self.rnd.random() < 0.35):
            self.lines.append(f"{start} {self.flow_value(value)}{self.trailing(owners)}")
        elif isinstance(value, dict):
            self.lines.append(start + self.trailing(owners))
            self.block_map(value, indent + self.unit, owners)
        elif isinstance(value, list) and (not value or self.rnd.random() < 0.05):
            self.lines.append(f"{start} {self.flow_value(value)}{self.trailing(owners)}")
        elif isinstance(value, list):
            self.lines.append(start + self.trailing(owners))
            for item in value:
                self.item(item, indent + self.seq_indent)
        elif isinstance(value, str) and value.endswith("\n") and value.count("\n") > 1 \
                and not any(line.startswith(" ") for line in value.split("\n")) and self.rnd.random() < 0.7:
            self.lines.append(f"{start} |{self.trailing(owners)}")
            self.lines.extend(" " * (indent + self.unit) + line for line in value[:-1].split("\n"))
            self.literal_ends = len(self.lines)
        else:
            self.lines.append(f"{start} {self.scalar(value, False)}{self.trailing(owners)}".rstrip(" "))

    def block_map(self, value: dict[str, Any], indent: int, owners: frozenset[Any], dash: int | None = None) -> None:
        keys = list(value)
        self.rnd.shuffle(keys)
        for index, key in enumerate(keys):
            entry_owners = owners | _owners_of(owners, key)
            if index or dash is None:
                self.decorate(indent, entry_owners)
            head = f"{' ' * dash}-{' ' * (self.offset - 1)}" if index == 0 and dash is not None else None
            self.entry(key, value[key], indent, entry_owners, head)
        if self.rnd.random() < 0.15:
            self.lines.append(" " * indent + self.comment(owners))


def _owners_of(owners: frozenset[Any], key: str) -> frozenset[Any]:
    """What a comment on an entry goes with: a node's field, or one of its inputs."""
    nodes = [o[1] for o in owners if o[0] == "node"]
    if not nodes:
        return frozenset()
    fields = [o[2] for o in owners if o[0] == "field"]
    if not fields:
        return frozenset({("field", nodes[0], key)})
    return frozenset({("input", nodes[0], key)}) if fields == ["inputs"] else frozenset()


def _typo(rnd: random.Random, word: str) -> str:
    at = rnd.randrange(len(word))
    return word[:at] + word[at + 1:] if len(word) > 3 and rnd.random() < 0.5 else word[:at] + "q" + word[at:]


def _node(rnd: random.Random, name: str, earlier: list[str], inputs: list[str]) -> dict[str, Any]:
    kind = rnd.choice(["python", "python", "prompt", "llm"])
    node: dict[str, Any] = {"name": name, "type": kind,
                            "source": {"type": "code", "path": f"{name}.{'py' if kind == 'python' else 'jinja2'}"}}
    values: dict[str, Any] = dict(LLM_PARAMETERS) if kind == "llm" else {}
    for key in rnd.sample(INPUT_KEYS, rnd.randrange(4)):
        sources = [f"${{inputs.{i}}}" for i in inputs] + [f"${{{n}.output}}" for n in earlier]
        values[key] = rnd.choice(sources) if sources and rnd.random() < 0.5 else rnd.choice(LITERALS)
    shape = rnd.random()
    if shape < 0.85 or values:
        node["inputs"] = values
    elif shape < 0.92:
        node["inputs"] = None
    if kind == "llm":
        node.update(connection="local", api="chat")
    if rnd.random() < 0.2:
        node["description"] = rnd.choice(["Says hello.", "Line one.\nLine two: x\n", "  odd: 'x'\n\nmore\n"])
    if rnd.random() < 0.15:
        node["aggregation"] = False
    return node


def _files(nodes: list[dict[str, Any]], extra: dict[str, list[str]]) -> dict[str, str]:
    files = {}
    for node in nodes:
        keys = [k for k in node.get("inputs") or {} if k not in LLM_PARAMETERS and k != "styel"]
        if node["source"]["path"].endswith(".py"):
            params = ", ".join(keys + extra.get(node["name"], []) + ["style: str = 'plain'"])
            files[node["source"]["path"]] = f"from flowline import tool\n\n\n@tool\ndef run({params}) -> str:\n" \
                                            "    return ''\n"
        else:
            files[node["source"]["path"]] = "# user:\n" + "".join(f"{{{{ {k} }}}}\n" for k in keys)
    return files


def _defects(rnd: random.Random, data: dict[str, Any], extra: dict[str, list[str]]) -> list[Defect]:
    """Mistakes validation finds and offers quick fixes for: a required tool input left out, unknown
    flow inputs and nodes in references, a mistyped node type, a mistyped tool parameter."""
    defects = []
    nodes = data["nodes"]
    inputs = list(data.get("inputs") or {})
    for index, node in enumerate(nodes):
        choice = rnd.random()
        given = node.get("inputs")
        path = ("nodes", index, "inputs")
        if choice < 0.15 and node["type"] == "python":
            extra[node["name"]] = ["needed"]
        elif choice < 0.3 and isinstance(given, dict):
            typo = _typo(rnd, rnd.choice(inputs)) if inputs and rnd.random() < 0.7 else "brand_new"
            if typo not in inputs:
                given["ref_in"] = f"${{inputs.{typo}}}"
                defects.append(Defect("value", (*path, "ref_in"), typo))
        elif choice < 0.4 and isinstance(given, dict) and index:
            typo = _typo(rnd, nodes[rnd.randrange(index)]["name"])
            if typo not in [n["name"] for n in nodes]:
                given["ref_node"] = f"${{{typo}.output}}"
                defects.append(Defect("value", (*path, "ref_node"), typo))
        elif choice < 0.5 and node["type"] in ("python", "prompt"):
            node["type"] = _typo(rnd, node["type"])
            defects.append(Defect("value", ("nodes", index, "type"), node["type"]))
        elif choice < 0.6 and node["type"] == "python" and isinstance(given, dict):
            given["styel"] = "bold"
            defects.append(Defect("key", path, "styel"))
    return defects


@st.composite
def random_flows(draw: st.DrawFn) -> RandomFlow:
    """A random valid flow (but for its deliberate defects), written in a random style. One seed
    drives all the choices: drawing each from hypothesis would run past its buffer for bigger flows
    and so favour small ones; a failure prints the whole text anyway."""
    rnd = random.Random(draw(st.integers(0, 2**64)))
    data: dict[str, Any] = {}
    if rnd.random() < 0.3:
        data["description"] = rnd.choice(["A random flow.", "Flow: with a colon", "Two\nlines\n"])
    inputs = rnd.sample(INPUT_NAMES, rnd.randrange(4))
    if inputs or rnd.random() < 0.5:
        data["inputs"] = {i: {"type": "string", "default": rnd.choice(LITERALS[:12])} for i in inputs}
    names = rnd.sample(NODE_NAMES, rnd.choice([0, 1, 2, 2, 3, 3, 4]))
    nodes = [_node(rnd, name, names[:i], inputs) for i, name in enumerate(names)]
    if nodes:
        data["outputs"] = {"answer": {"type": "string", "reference": f"${{{rnd.choice(names)}.output}}"}}
    if nodes or rnd.random() < 0.5 or not data:
        data["nodes"] = nodes
    extra: dict[str, list[str]] = {}
    defects = _defects(rnd, data, extra) if nodes else []
    writer = _Writer(rnd, rnd.choice([2, 4]), rnd.choice([0, 2]))
    if rnd.random() < 0.5:
        writer.lines.append(writer.comment(frozenset()))
    if rnd.random() < 0.1:
        writer.lines.append("---")
    writer.block_map(data, 0, frozenset())
    writer.lines.extend([""] * rnd.randrange(2) + ([writer.comment(frozenset())] if rnd.random() < 0.3 else []))
    eol = rnd.choice(["\n", "\r\n"])
    ends = rnd.random() < 0.85 or writer.literal_ends == len(writer.lines)
    text = eol.join(writer.lines) + (eol if ends else "")
    return RandomFlow(data, text, eol, writer.comments, _files(nodes, extra), defects)
