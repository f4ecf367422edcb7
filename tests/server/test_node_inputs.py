"""`flow test --node` inputs that read one dependency several ways: a value given by the node input's name is
that input's value; an exact `<dep>.output.<path>` is set into the whole output given as `<dep>.output`."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli, write_flow

FLOW = {"flow.dag.yaml": """
    inputs:
      x: {type: string, default: a}
    outputs:
      o: {reference: "${child.output}"}
    nodes:
    - name: parent
      type: python
      source: {type: code, path: p.py}
      inputs: {x: "${inputs.x}"}
    - name: child
      type: python
      source: {type: code, path: c.py}
      inputs:
        k: ${parent.output.result.key1}
        whole: ${parent.output}
        first: ${parent.output.items.[0]}
""", "p.py": """
    from flowline import tool


    @tool
    def p(x: str) -> dict:
        return {"result": {"key1": x}, "items": [x]}
""", "c.py": """
    from flowline import tool


    @tool
    def c(k: str, whole: object, first: str) -> list:
        return [k, whole, first]
"""}
WHOLE = '{"result": {"key1": "b"}, "items": ["w"]}'


def _node(folder: Path, *inputs: str) -> object:
    result = run_cli("flow", "test", "--flow", str(folder), "--node", "child", "--inputs", *inputs)
    assert result.code == 0, result.stderr
    return result.json()


def test_inputs_given_by_name_win_over_the_output_they_read(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "f", FLOW)
    assert _node(folder, "k=a", f"whole={WHOLE}", "first=z") == ["a", WHOLE, "z"]
    assert _node(folder, "k=a", f"parent.output={WHOLE}") == ["a", {"result": {"key1": "b"}, "items": ["w"]}, "w"]


def test_an_exact_path_is_set_into_the_whole_output(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "f", FLOW)
    over = {"result": {"key1": "OVER"}, "items": ["w"]}
    assert _node(folder, f"parent.output={WHOLE}", "parent.output.result.key1=OVER") == ["OVER", over, "w"]
    assert _node(folder, "parent.output.items.[0]=I", f"parent.output={WHOLE}") == \
        ["b", {"result": {"key1": "b"}, "items": ["I"]}, "I"]


def test_a_flow_inputs_bare_name_is_converted_to_its_type(tmp_path: Path) -> None:
    folder = write_flow(tmp_path / "f", {"flow.dag.yaml": """
        inputs:
          picture: {type: image}
          n: {type: int, default: 1}
        outputs:
          o: {reference: "${t.output}"}
        nodes:
        - name: t
          type: python
          source: {type: code, path: t.py}
          inputs: {image: "${inputs.picture}", count: "${inputs.n}"}
        """, "t.py": """
        from promptflow.core import tool
        from promptflow.contracts.multimedia import Image


        @tool
        def t(image: Image, count: int) -> list:
            return [isinstance(image, Image), len(image), count]
        """})
    (folder / "red.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(8))
    result = run_cli("flow", "test", "--flow", str(folder), "--node", "t", "--inputs", "picture=red.png", "n=3")
    assert result.code == 0, result.stderr
    assert result.json() == [True, 16, 3]
