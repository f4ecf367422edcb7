"""Stand-in for ``promptflow.tools.aoai_gpt4v``."""

from __future__ import annotations

from flowline.compat.promptflow.tools._native import VisionChat
from flowline.flow.builtin_tools import AZURE_VISION


class AzureOpenAI(VisionChat):
    """A chat with an Azure OpenAI vision model; the prompt's ``![image](...)`` lines become image parts."""

    TOOL_ID = AZURE_VISION
