"""Tool files written for Prompt flow run unmodified: the parts of promptflow's API they use are served
by Flowline's stand-in (connections as mappings, custom strong-typed connections, `promptflow._core.tool`
and `promptflow.entities` with input settings, `promptflow.tools.common`, `__name__ == "__pf_main__"`),
and an import the stand-in cannot serve is one line naming the symbol and the file:line.

Expected values marked "promptflow 1.18.5" were obtained by running the same calls by hand with
promptflow 1.18.5 and promptflow-tools 1.6.1 (`pf-venv/bin/python`, the objects built as a flow builds
them: `CustomConnection(configs=..., secrets=...)`, converted with `_convert_to_custom_strong_type`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import create_connection, run_cli, write_flow

CUSTOM = "name: vault\ntype: custom\nconfigs:\n  endpoint: https://svc.test\n  region: west\nsecrets:\n  token: tok-1\n"


def one_node(folder: Path, tool: str, inputs: str = "{conn: vault}") -> Path:
    flow = ("outputs:\n  out: {reference: '${t.output}'}\nnodes:\n"
            f"- name: t\n  type: python\n  source: {{type: code, path: t.py}}\n  inputs: {inputs}\n")
    return write_flow(folder, {"flow.dag.yaml": flow, "t.py": tool})


def run(folder: Path) -> object:
    result = run_cli("flow", "test", "--flow", str(folder))
    assert result.code == 0, result.stderr
    return result.json()["out"]


MAPPING = '''
from promptflow import tool
from promptflow.connections import CustomConnection


@tool
def t(conn: CustomConnection) -> dict:
    try:
        conn["nope"]
    except KeyError as exc:
        missing = exc.args[0]
    return {"dict": dict(conn), "item": conn["token"], "config": conn["endpoint"], "missing": missing,
            "keys": list(conn.keys()), "get": [conn.get("region"), conn.get("nope", "d")],
            "in": ["token" in conn, "nope" in conn], "iterated": list(conn)}
'''


def test_a_custom_connection_reads_like_a_mapping_of_configs_then_secrets(tmp_path: Path) -> None:
    create_connection(tmp_path, CUSTOM)
    out = run(one_node(tmp_path / "flow", MAPPING))
    # promptflow 1.18.5: dict(conn) == {'endpoint': ..., 'region': ..., 'token': ...} (configs, then secrets);
    # conn['nope'] raises KeyError "Key 'nope' not found in connection 'vault'."
    assert out == {"dict": {"endpoint": "https://svc.test", "region": "west", "token": "tok-1"}, "item": "tok-1",
                   "config": "https://svc.test", "missing": "Key 'nope' not found in connection 'vault'.",
                   "keys": ["endpoint", "region", "token"],
                   # Additions: promptflow 1.18.5 has no `get`, and `in` and iteration raise KeyError there.
                   "get": ["west", "d"], "in": [True, False], "iterated": ["endpoint", "region", "token"]}


STRONG = '''
{future}
from promptflow import tool
from promptflow.connections import CustomStrongTypeConnection
from promptflow.contracts.types import Secret


class ServiceConnection(CustomStrongTypeConnection):
    """The connection this tool needs."""

    token: Secret
    endpoint: str
    api_version: str = "2024-01-01"


@tool
def t(conn: ServiceConnection) -> dict:
    return {{"class": type(conn).__name__, "token": conn.token, "endpoint": conn.endpoint,
            "api_version": conn.api_version, "secrets": sorted(conn.secrets), "dict": dict(conn)}}
'''


@pytest.mark.parametrize("future", ["", "from __future__ import annotations"])
def test_a_custom_strong_typed_connection_is_built_from_the_stored_custom_one(tmp_path: Path, future: str) -> None:
    create_connection(tmp_path, CUSTOM)
    out = run(one_node(tmp_path / "flow", STRONG.format(future=future)))
    # promptflow 1.18.5 builds ServiceConnection(configs=..., secrets=...) of the stored connection: fields
    # annotated Secret read its secrets, the others its configs. A field it lacks raises KeyError there even
    # when the class gives a default; Flowline gives the default (api_version).
    assert out == {"class": "ServiceConnection", "token": "tok-1", "endpoint": "https://svc.test",
                   "api_version": "2024-01-01", "secrets": ["token"],
                   "dict": {"endpoint": "https://svc.test", "region": "west", "token": "tok-1"}}


def test_a_strong_typed_field_the_connection_lacks_names_it(tmp_path: Path) -> None:
    create_connection(tmp_path, CUSTOM)
    folder = one_node(tmp_path / "flow", STRONG.format(future="").replace("endpoint: str", "base: str")
                      .replace("conn.endpoint", "conn.base"))
    result = run_cli("flow", "test", "--flow", str(folder))
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "Connection 'vault' has no config 'base', which ServiceConnection needs" in result.stderr


SETTINGS = '''
from promptflow._core.tool import DynamicList, InputSetting, ToolProvider, ToolType, tool
from promptflow.entities import InputSetting as EntityInputSetting
from promptflow.entities import CustomConnection, DynamicList as EntityDynamicList


def models(prefix: str = "") -> list:
    return [{"value": prefix + "small"}, {"value": prefix + "large"}]


settings = {
    "model": InputSetting(dynamic_list=DynamicList(models, {"prefix": "kind"}), allow_manual_entry=True,
                          is_multi_select=False),
    "kind": EntityInputSetting(enabled_by="mode", enabled_by_value=["a"], custom_key=1),
}


@tool(name="Pick model", description="Chooses.", type=ToolType.PYTHON, input_settings=settings,
      streaming_option_parameter="stream")
def t(model: str, kind: str = "", stream: bool = False) -> dict:
    listing = settings["model"].dynamic_list
    return {"model": model, "func_path": listing.func_path, "mapping": listing.input_mapping,
            "manual": settings["model"].allow_manual_entry, "enabled_by": settings["kind"].enabled_by,
            "same": EntityDynamicList is DynamicList, "provider": issubclass(ToolProvider, object),
            "connection": CustomConnection.__name__}
'''


def test_tools_with_input_settings_from_promptflow_core_and_entities_run(tmp_path: Path) -> None:
    out = run(one_node(tmp_path / "flow", SETTINGS, "{model: large}"))
    assert out == {"model": "large", "func_path": "__pf_main__.models", "mapping": {"prefix": "kind"},
                   "manual": True, "enabled_by": "mode", "same": True, "provider": True,
                   "connection": "CustomConnection"}


MAIN = '''
import os

from promptflow import tool

LOADED_AS = __name__
if __name__ == "__pf_main__":
    RAN = "the __pf_main__ block ran"


@tool
def t() -> dict:
    return {"name": LOADED_AS, "ran": RAN, "absolute": os.path.isabs(__file__), "file": __file__,
            "helper": helper()}


def helper() -> str:
    return "helper"
'''


def test_a_tool_module_is_named_pf_main_and_knows_its_absolute_file(tmp_path: Path) -> None:
    folder = one_node(tmp_path / "flow", MAIN, "{}")
    # Run from elsewhere with a relative --flow: __file__ must still be absolute.
    result = run_cli("flow", "test", "--flow", "flow", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.json()["out"] == {"name": "__pf_main__", "ran": "the __pf_main__ block ran", "absolute": True,
                                    "file": str(folder / "t.py"), "helper": "helper"}


COMMON = '''
from promptflow import tool
from promptflow.connections import OpenAIConnection
from promptflow.tools.common import (convert_to_chat_list, handle_openai_error, normalize_connection_config,
                                     parse_chat, process_function_call, render_jinja_template, to_bool)


@handle_openai_error()
@tool
def t(conn: OpenAIConnection) -> dict:
    history = convert_to_chat_list([{"inputs": {"q": 1}, "outputs": {"a": 2}}])
    return {
        "to_bool": [to_bool(v) for v in (True, "true", "True", "TRUE", "yes", "1", 1, 0, "false", None, "")],
        "rendered": render_jinja_template("a {{x}}\\n{% if y %}Y{% endif %}\\nend", x="<b>", y=True),
        "chat": parse_chat("# system:\\nBe kind.\\n\\n# user:\\nhi there\\n"),
        "history": [type(history).__name__, history],
        "config": normalize_connection_config(conn),
        "function_call": [process_function_call("auto"), process_function_call({"name": "f"})],
    }
'''


def test_promptflow_tools_common_helpers_give_what_promptflow_tools_gives(tmp_path: Path) -> None:
    create_connection(tmp_path, "name: oai\ntype: open_ai\napi_key: k\nbase_url: http://b\norganization: o\n")
    out = run(one_node(tmp_path / "flow", COMMON, "{conn: oai}"))
    # promptflow-tools 1.6.1 (promptflow 1.18.5), each call run by hand with the same arguments.
    assert out == {
        "to_bool": [True, True, True, True, False, False, False, False, False, False, False],
        "rendered": "a <b>\nYend",
        "chat": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "hi there"}],
        "history": ["ChatInputList", [{"inputs": {"q": 1}, "outputs": {"a": 2}}]],
        "config": {"max_retries": 0, "api_key": "k", "organization": "o", "base_url": "http://b"},
        "function_call": ["auto", {"name": "f"}],
    }


@pytest.mark.parametrize("line,message", [
    ("from promptflow.connections import CustomConnection, WeaviateConnection",
     "'WeaviateConnection' of promptflow.connections is not available in Flowline (its stand-in for "
     "promptflow.connections has AzureOpenAIConnection, CustomConnection, CustomStrongTypeConnection, "
     "OpenAIConnection"),
    ("import promptflow.azure", "'promptflow.azure' is not available in Flowline (it serves promptflow, "),
    ("from promptflow.evals.evaluators import F1ScoreEvaluator",
     "'promptflow.evals' is not available in Flowline (it serves promptflow, "),
    ("from promptflow.tools.common import nothing",
     "'nothing' of promptflow.tools.common is not available in Flowline (its stand-in for promptflow.tools.common "
     "has ChatAPIInvalidFunctions, ChatInputList, build_messages, convert_to_chat_list, handle_openai_error, "
     "normalize_connection_config, parse_chat, process_function_call, render_jinja_template, to_bool); "),
    ("import promptflow as pf; pf.load_flow",
     "AttributeError: 'load_flow' of promptflow is not available in Flowline (its stand-in for promptflow has "
     "PFClient, ToolProvider, log_metric, tool); "),
])
def test_an_import_the_stand_in_cannot_serve_is_one_line_at_its_place(tmp_path: Path, line: str,
                                                                      message: str) -> None:
    tool = f"from promptflow import tool\n{line}\n\n\n@tool\ndef t() -> str:\n    return 'x'\n"
    folder = one_node(tmp_path / "flow", tool, "{}")
    result = run_cli("flow", "test", "--flow", str(folder))
    assert result.code == 1 and result.stdout == ""
    [said] = result.stderr.splitlines()
    assert said.startswith("Node 't' could not load its tool: ")
    assert message in said and said.endswith(f"({folder / 't.py'}:2)")
    data = tmp_path / "data.jsonl"
    data.write_text("{}\n")
    batch = run_cli("run", "create", "--flow", str(folder), "--data", str(data), "--name", "refused")
    assert batch.code == 1 and message in batch.json()["reason"] and "Traceback" not in batch.stderr


def test_openai_connections_read_as_mappings_with_promptflows_fields(tmp_path: Path) -> None:
    create_connection(tmp_path, "name: oai\ntype: open_ai\napi_key: k\nbase_url: http://b\n")
    create_connection(tmp_path, "name: aoai\ntype: azure_open_ai\napi_key: k\napi_base: http://a\n"
                                "api_type: azure\napi_version: '2024-02-01'\n")
    tool = ("from promptflow import tool\nfrom promptflow.connections import AzureOpenAIConnection, OpenAIConnection\n"
            "\n\n@tool\ndef t(a: OpenAIConnection, b: AzureOpenAIConnection) -> list:\n"
            "    return [list(dict(a).items()), list(dict(b).items()), a['organization'], b.resource_id]\n")
    folder = one_node(tmp_path / "flow", tool, "{a: oai, b: aoai}")
    # Recorded from promptflow 1.18.5 (`pf flow test`, the same connections): keys in this order, unset ones None.
    assert run(folder) == [
        [["organization", None], ["base_url", "http://b"], ["api_key", "k"]],
        [["api_base", "http://a"], ["api_type", "azure"], ["api_version", "2024-02-01"], ["auth_mode", "key"],
         ["resource_id", None], ["api_key", "k"]],
        None, None]
