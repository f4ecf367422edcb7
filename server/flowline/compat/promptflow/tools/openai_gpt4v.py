"""Stand-in for ``promptflow.tools.openai_gpt4v``."""

from __future__ import annotations

from typing import NoReturn

from flowline.compat.promptflow.tools._native import VisionChat
from flowline.compat.shim import missing_attribute
from flowline.flow.builtin_tools import OPENAI_VISION


class OpenAI(VisionChat):
    """A chat with an OpenAI vision model; the prompt's ``![image](...)`` lines become image parts."""

    TOOL_ID = OPENAI_VISION


__all__ = ["OpenAI"]


def __getattr__(name: str) -> NoReturn:
    raise missing_attribute(__name__, name)
