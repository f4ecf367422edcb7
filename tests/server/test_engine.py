"""Run semantics of the engine through the real `flowline flow test` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES, one_node_flow, run_cli, write_flow


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


SLEEPY = '''
import time

from flowline import tool


@tool
def nap(seconds: float, label: str) -> str:
    time.sleep(seconds)
    return label
'''


def test_independent_sync_nodes_run_in_parallel(flow_dir: Path, tmp_path: Path) -> None:
    write_flow(flow_dir, {"nap.py": SLEEPY, "flow.dag.yaml": """
        outputs:
          both:
            reference: ${join.output}
        nodes:
        - name: left
          type: python
          source: {type: code, path: nap.py}
          inputs: {seconds: 0.5, label: L}
        - name: right
          type: python
          source: {type: code, path: nap.py}
          inputs: {seconds: 0.5, label: R}
        - name: join
          type: python
          source: {type: code, path: nap.py}
          inputs: {seconds: 0, label: "${left.output}"}
    """})
    events_file = tmp_path / "events.jsonl"
    result = run_cli("flow", "test", "--flow", str(flow_dir), "--events", str(events_file))
    assert result.code == 0, result.stderr
    assert result.json() == {"both": "L"}
    events = _events(events_file)
    order = [(e["type"], e["node"]) for e in events if e["type"] in ("node_start", "node_end")]
    assert order[:2] == [("node_start", "left"), ("node_start", "right")], "right waited for left"
    ends = {e["node"]: e for e in events if e["type"] == "node_end"}
    # Both 0.5 s naps were in flight at once: each started before the other ended.
    assert ends["left"]["start"] < ends["right"]["end"] and ends["right"]["start"] < ends["left"]["end"]
    # join waits only for left (it references nothing else), so it may run while right still naps.
    assert order.index(("node_start", "join")) > order.index(("node_end", "left"))


def test_events_follow_the_schema(tmp_path: Path) -> None:
    events_file = tmp_path / "events.jsonl"
    result = run_cli("flow", "test", "--flow", str(SAMPLES / "hello"), "--inputs", "name=Ada",
                     "--events", str(events_file))
    assert result.code == 0, result.stderr
    events = _events(events_file)
    assert [(e["type"], e.get("node")) for e in events] == [
        ("run_start", None), ("node_start", "greet"), ("node_end", "greet"),
        ("node_start", "shout"), ("node_end", "shout"), ("run_end", None)]
    run_ids = {e["run_id"] for e in events}
    assert len(run_ids) == 1
    greet_end = events[2]
    assert greet_end["status"] == "Completed" and greet_end["output"] == "Hello, Ada!\n"
    assert greet_end["duration_ms"] >= 0 and greet_end["start"] <= greet_end["end"]
    assert events[3]["inputs"] == {"text": "Hello, Ada!\n", "excited": False}
    assert events[-1]["status"] == "Completed"
    assert events[-1]["output"] == {"greeting": "Hello, Ada!", "length": 11}


def test_events_to_stdout_are_json_lines() -> None:
    result = run_cli("flow", "test", "--flow", str(SAMPLES / "hello"), "--events", "-")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["type"] == "run_start" and lines[-1]["type"] == "run_end"


def test_prints_become_log_events_and_stdout_stays_data(flow_dir: Path, tmp_path: Path) -> None:
    write_flow(flow_dir, {"chatty.py": '''
        import sys
        import threading

        from flowline import tool


        @tool
        def chatty(x: int) -> int:
            print("working on", x)
            print("partial line", end="")
            sys.stderr.write("a warning\\n")
            thread = threading.Thread(target=print, args=("from a stray thread",))
            thread.start()
            thread.join()
            return x + 1
    ''', "flow.dag.yaml": """
        outputs:
          y: {reference: "${chatty.output}"}
        nodes:
        - name: chatty
          type: python
          source: {type: code, path: chatty.py}
          inputs: {x: 1}
    """})
    events_file = tmp_path / "events.jsonl"
    result = run_cli("flow", "test", "--flow", str(flow_dir), "--events", str(events_file))
    assert result.code == 0, result.stderr
    assert result.json() == {"y": 2}
    logs = [(e["node"], e["stream"], e["message"]) for e in _events(events_file) if e["type"] == "log"]
    assert ("chatty", "stdout", "working on 1") in logs
    assert ("chatty", "stderr", "a warning") in logs
    assert ("chatty", "stdout", "partial line") in logs
    assert "[chatty] working on 1" in result.stderr
    assert "from a stray thread" in result.stderr


def test_failing_tool_event_points_at_user_code(flow_dir: Path, tmp_path: Path) -> None:
    write_flow(flow_dir, {"boom.py": '''
        from flowline import tool


        def helper(value):
            return value["missing"]


        @tool
        def boom(value: dict) -> str:
            return helper(value)
    ''', "flow.dag.yaml": """
        outputs:
          y: {reference: "${boom.output}"}
        nodes:
        - name: boom
          type: python
          source: {type: code, path: boom.py}
          inputs: {value: {}}
    """})
    events_file = tmp_path / "events.jsonl"
    result = run_cli("flow", "test", "--flow", str(flow_dir), "--events", str(events_file))
    assert result.code == 1
    assert result.stdout == ""
    end = next(e for e in _events(events_file) if e["type"] == "node_end")
    assert end["status"] == "Failed"
    error = end["error"]
    assert error["type"] == "KeyError" and error["message"] == "'missing'"
    assert Path(error["file"]) == (flow_dir / "boom.py").resolve()
    assert error["line"] == 5
    assert "boom.py" in error["traceback"] and "flowline" not in error["traceback"].replace(str(flow_dir), "")
    assert "Run failed in node 'boom': KeyError: 'missing'" in result.stderr


def test_tool_that_fails_to_import_is_a_failed_run_without_traceback(flow_dir: Path) -> None:
    write_flow(flow_dir, {"bad.py": "from flowline import tool\nimport not_installed_module\n\n@tool\ndef t():\n"
                                    "    return 1\n",
                          "flow.dag.yaml": "nodes:\n- name: bad\n  type: python\n"
                                           "  source: {type: code, path: bad.py}\n"})
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 1
    assert "Node 'bad' could not load its tool: ModuleNotFoundError: No module named 'not_installed_module'" \
        in result.stderr
    assert "bad.py:2" in result.stderr
    assert "Traceback" not in result.stderr


def test_aggregation_runs_after_the_line_and_logs_metrics(tmp_path: Path) -> None:
    folder = tmp_path / "eval"
    assert run_cli("flow", "init", "--flow", str(folder), "--type", "evaluation").code == 0
    events_file = tmp_path / "events.jsonl"
    result = run_cli("flow", "test", "--flow", str(folder), "--inputs", "groundtruth=A", "prediction=b",
                     "--events", str(events_file))
    assert result.code == 0, result.stderr
    assert result.json() == {"result": "Incorrect"}
    events = _events(events_file)
    aggregate_start = next(e for e in events if e["type"] == "node_start" and e["node"] == "aggregate")
    assert aggregate_start["inputs"] == {"processed_results": ["Incorrect"]}
    assert events[-1]["metrics"] == {"accuracy": 0.0}


def test_additional_includes_resolve_in_place(tmp_path: Path) -> None:
    shared = write_flow(tmp_path / "shared", {
        "common.py": "PREFIX = '>> '\n",
        "shared_tool.py": '''
            import common
            from flowline import tool


            @tool
            def shared_tool(text: str) -> dict:
                return {"text": common.PREFIX + text, "file": __file__}
        '''})
    flow_dir = write_flow(tmp_path / "flow", {"flow.dag.yaml": """
        additional_includes:
        - ../shared/common.py
        - ../shared/shared_tool.py
        inputs:
          text: {type: string, default: hi}
        outputs:
          out: {reference: "${use.output}"}
        nodes:
        - name: use
          type: python
          source: {type: code, path: shared_tool.py}
          inputs: {text: "${inputs.text}"}
    """})
    assert run_cli("flow", "validate", "--source", str(flow_dir)).code == 0
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 0, result.stderr
    out = result.json()["out"]
    assert out["text"] == ">> hi"
    assert Path(out["file"]).resolve() == (shared / "shared_tool.py").resolve()
    assert not (flow_dir / "shared_tool.py").exists()


def test_chat_history_defaults_to_empty_list(flow_dir: Path) -> None:
    write_flow(flow_dir, {"echo.py": "from flowline import tool\n\n@tool\ndef echo(q: str, history: list) -> dict:\n"
                                     "    return {'q': q, 'turns': len(history)}\n",
                          "flow.dag.yaml": """
        inputs:
          question: {type: string, is_chat_input: true}
          chat_history: {type: list, is_chat_history: true}
        outputs:
          answer: {reference: "${echo.output}", is_chat_output: true}
        nodes:
        - name: echo
          type: python
          source: {type: code, path: echo.py}
          inputs: {q: "${inputs.question}", history: "${inputs.chat_history}"}
    """})
    result = run_cli("flow", "test", "--flow", str(flow_dir), "--inputs", "question=hi")
    assert result.code == 0, result.stderr
    assert result.json() == {"answer": {"q": "hi", "turns": 0}}


def test_class_based_tool_provider(flow_dir: Path) -> None:
    write_flow(flow_dir, {"provider.py": '''
        from promptflow.core import ToolProvider, tool


        class Greeter(ToolProvider):
            def __init__(self, greeting: str):
                super().__init__()
                self.greeting = greeting

            @tool
            def greet(self, name: str) -> str:
                return f"{self.greeting}, {name}"
    ''', "flow.dag.yaml": """
        outputs:
          out: {reference: "${greet.output}"}
        nodes:
        - name: greet
          type: python
          source: {type: code, path: provider.py}
          inputs: {greeting: Hello, name: Bob}
    """})
    assert run_cli("flow", "validate", "--source", str(flow_dir)).code == 0
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 0, result.stderr
    assert result.json() == {"out": "Hello, Bob"}


def test_unsupported_promptflow_module_is_named(flow_dir: Path) -> None:
    write_flow(flow_dir, {"t.py": "from promptflow.azure import PFClient\nfrom promptflow import tool\n\n@tool\n"
                                  "def t():\n    return 1\n",
                          "flow.dag.yaml": "nodes:\n- name: t\n  type: python\n  source: {type: code, path: t.py}\n"})
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 1
    assert "'promptflow.azure' is not available in Flowline" in result.stderr


def test_prompt_templates_are_sandboxed(flow_dir: Path) -> None:
    write_flow(flow_dir, {"evil.jinja2": "{{ ''.__class__.__mro__[1].__subclasses__() }}\n",
                          "flow.dag.yaml": "outputs:\n  o: {reference: '${p.output}'}\nnodes:\n- name: p\n"
                                           "  type: prompt\n  source: {type: code, path: evil.jinja2}\n"})
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 1
    assert "unsafe" in result.stderr


def test_output_property_of_bypassed_node_fails_clearly(flow_dir: Path) -> None:
    write_flow(flow_dir, {"t.py": "from flowline import tool\n\n@tool\ndef t(x: str = '') -> dict:\n"
                                  "    return {'x': x}\n",
                          "flow.dag.yaml": """
        outputs:
          o: {reference: "${skipped.output.x}"}
        nodes:
        - name: skipped
          type: python
          source: {type: code, path: t.py}
          activate: {when: a, is: b}
    """})
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 1
    assert "Invalid property 'x' when accessing the output of node 'skipped'" in result.stderr


def test_literal_that_does_not_convert_refuses_the_flow(flow_dir: Path) -> None:
    # Validation reads the annotation, so the run is refused before any node runs (promptflow 1.18.5 fails
    # when it converts the literal inputs), with the message the node would have failed with.
    write_flow(flow_dir, {"t.py": "from flowline import tool\n\n@tool\ndef t(n: int) -> int:\n    return n\n",
                          "flow.dag.yaml": "nodes:\n- name: t\n  type: python\n  source: {type: code, path: t.py}\n"
                                           "  inputs: {n: lots}\n"})
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 2
    assert ":5:15: error: Input 'n' of node 't' is not of type int: 'lots' is not a valid int. [input-literal-type]" \
        in result.stderr


def test_conditional_sample_takes_one_branch_and_bypasses_the_other(tmp_path: Path) -> None:
    for question, route, answer, bypassed in (("12 * (3 + 4)", "math", "84", "explain"),
                                               ("What is YAML?", "text", 'I can only do arithmetic, but here is '
                                                'your question back: "What is YAML?"', "calculate")):
        events_file = tmp_path / f"{route}.jsonl"
        result = run_cli("flow", "test", "--flow", str(SAMPLES / "conditional"), "--inputs", f"question={question}",
                         "--events", str(events_file))
        assert result.code == 0, result.stderr
        assert result.json() == {"route": route, "answer": answer}
        statuses = {e["node"]: e["status"] for e in _events(events_file) if e["type"] == "node_end"}
        assert statuses[bypassed] == "Bypassed"
        assert sum(s == "Completed" for s in statuses.values()) == 3


EXITING_FLOW = one_node_flow("hello")


@pytest.mark.parametrize("tool,call", [
    ("import sys\nfrom promptflow import tool\n\n@tool\ndef t(text: str) -> str:\n    sys.exit(0)\n", "sys.exit(0)"),
    ("import sys\nfrom flowline import tool\n\n@tool\nasync def t(text: str) -> str:\n    sys.exit('bye')\n",
     "sys.exit('bye')"),
    ("from flowline import tool\n\nclass T:\n    @tool\n    def t(self, text: str) -> str:\n        raise SystemExit\n",
     "sys.exit()"),
])
def test_a_tool_calling_sys_exit_fails_its_node_and_says_where_and_what_to_do(
        flow_dir: Path, tmp_path: Path, tool: str, call: str) -> None:
    """SystemExit is no Exception: it used to end the process with exit 0, no outputs and no run_end."""
    write_flow(flow_dir, {"t.py": tool, "flow.dag.yaml": EXITING_FLOW})
    events_file = tmp_path / "events.jsonl"
    result = run_cli("flow", "test", "--flow", str(flow_dir), "--events", str(events_file))
    assert result.code == 1, result.stderr
    assert result.stdout == ""
    end = _events(events_file)[-1]
    assert end["type"] == "run_end" and end["status"] == "Failed" and end["failed_node"] == "t"
    message = f"Tool 't' called {call}; a tool returns a value or raises an exception — remove the sys.exit call."
    assert end["error"]["type"] == "SystemExit" and end["error"]["message"] == message
    assert Path(end["error"]["file"]) == (flow_dir / "t.py").resolve()
    assert end["error"]["line"] == len(tool.splitlines())
    assert f"SystemExit: {message} ({(flow_dir / 't.py').resolve()}:{end['error']['line']})" in result.stderr


def test_a_tool_module_calling_sys_exit_on_import_is_refused_like_an_import_error(flow_dir: Path) -> None:
    """It used to end `flow test` with the module's exit code (3) and nothing printed."""
    write_flow(flow_dir, {"t.py": "import sys\nfrom promptflow import tool\nsys.exit(3)\n\n@tool\n"
                                  "def t(text: str) -> str:\n    return text\n", "flow.dag.yaml": EXITING_FLOW})
    result = run_cli("flow", "test", "--flow", str(flow_dir))
    assert result.code == 1
    assert "Node 't' could not load its tool: SystemExit: t.py called sys.exit(3) while being imported; a tool " \
           "file defines its @tool function and must not end the process — remove the sys.exit call" in result.stderr
    assert f"({(flow_dir / 't.py').resolve()}:3)" in result.stderr
    assert "Traceback" not in result.stderr
