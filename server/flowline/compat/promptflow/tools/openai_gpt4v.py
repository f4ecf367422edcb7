"""Stand-in for ``promptflow.tools.openai_gpt4v``."""

from __future__ import annotations

from flowline.compat.promptflow.tools._native import VisionChat
from flowline.flow.builtin_tools import OPENAI_VISION


class OpenAI(VisionChat):
    """A chat with an OpenAI vision model; the prompt's ``![image](...)`` lines become image parts."""

    TOOL_ID = OPENAI_VISION
