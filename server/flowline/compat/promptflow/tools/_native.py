"""Calling a built-in tool from a tool file: the engine's native runner, run to its end on a private loop.

Tool files call these synchronously (promptflow's tools are plain functions); sync tools run on worker
threads, where a loop of their own is free to run. Each call builds its own runner, so no client outlives
the loop it was made on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from flowline.connections.model import Connection
from flowline.tools import ToolProvider, tool


def _context() -> Any:
    from flowline.engine.nodes import NodeContext

    return NodeContext(on_token=lambda token: None, add_usage=lambda usage: None)


def run_builtin(tool_id: str, connection: Connection, inputs: dict[str, Any], template: str | None = None) -> Any:
    """The output of built-in tool ``tool_id`` for ``inputs`` with ``connection`` (and, for the vision
    chats, the prompt ``template``). Raises what the engine's runner raises (``LLMError``,
    ``BuiltinToolError``) and ``TypeError`` for an object that is no Flowline connection."""
    from flowline.engine import builtin_tools
    from flowline.engine.llm import LLMRunner
    from flowline.flow.builtin_tools import EMBEDDING, VISION_TOOLS
    from flowline.flow.package_tools import installed_tools

    if not isinstance(connection, Connection):
        raise TypeError(f"{tool_id} needs a connection object (a parameter annotated with a connection class "
                        f"receives one), not {type(connection).__name__}.")
    tool = installed_tools().get(tool_id)
    assert tool is not None, tool_id
    node = tool_id.rsplit(".", 1)[-1]
    values = {k: v for k, v in inputs.items() if v is not None}
    runner: Any
    if tool_id in VISION_TOOLS:
        llm = LLMRunner(node, template or "", "prompt", "chat", connection, Path.cwd())
        runner = builtin_tools.VisionRunner.of(llm, tool)
    elif tool_id == EMBEDDING:
        runner = builtin_tools.EmbeddingRunner(builtin_tools.ToolInputs(tool),
                                               LLMRunner(node, "", "", "embedding", connection, Path.cwd()))
    else:
        runner = builtin_tools.SerpAPIRunner(builtin_tools.ToolInputs(tool), node, connection)
    return asyncio.run(runner.call(values, _context()))


class VisionChat(ToolProvider):
    """A chat with a vision model of the connection's service; the prompt's ``![image](...)`` lines become
    image parts. Subclasses name the built-in tool they stand for in ``TOOL_ID``."""

    TOOL_ID = ""

    def __init__(self, connection: Any) -> None:
        super().__init__()
        self.connection = connection

    @tool
    def chat(self, prompt: str, **kwargs: Any) -> Any:
        """The model's answer to the chat prompt template ``prompt`` rendered with ``kwargs`` (model
        parameters such as ``temperature`` and ``detail`` among them)."""
        return run_builtin(self.TOOL_ID, self.connection, kwargs, prompt)


__all__ = ["VisionChat", "run_builtin"]
