"""The promptflow-tools package tools Flowline runs itself, without promptflow installed.

Their ids, inputs, types, defaults and choices are those promptflow-tools 1.6.1 declares (observed
with ``pf tool list`` and by calling the tools); the descriptions are Flowline's own. The engine runs
them through :mod:`flowline.engine.builtin_tools`.
"""

from __future__ import annotations

from typing import Any

from flowline.flow.package_tools import PackageTool, parse_tool

EMBEDDING = "promptflow.tools.embedding.embedding"
OPENAI_VISION = "promptflow.tools.openai_gpt4v.OpenAI.chat"
AZURE_VISION = "promptflow.tools.aoai_gpt4v.AzureOpenAI.chat"
SERPAPI = "promptflow.tools.serpapi.SerpAPI.search"
VISION_TOOLS = (OPENAI_VISION, AZURE_VISION)


def needs_prompt_message(node: str, tool_id: str) -> str:
    """What to say about a node running vision tool ``tool_id`` without a template (``source.type`` other than
    ``package_with_prompt``); validation and the engine say the same."""
    return (f"Node '{node}' uses {tool_id}, which needs a prompt template: set "
            "'source: {type: package_with_prompt, tool: ..., path: <file>.jinja2}'.")
LLM_TOOL = "promptflow.tools.llm.llm"
"""promptflow's LLM tool as a ``custom_llm`` node's package tool: an LLM node (not listed among package tools)."""

_CHAT_SETTINGS: dict[str, Any] = {
    "temperature": {"type": ["double"], "default": 1,
                    "description": "Sampling temperature: higher is more varied."},
    "top_p": {"type": ["double"], "default": 1, "description": "Nucleus sampling: the probability mass kept."},
    "max_tokens": {"type": ["int"], "default": 512, "description": "The longest answer, in tokens."},
    "stop": {"type": ["list"], "default": "", "description": "Texts that end the answer."},
    "presence_penalty": {"type": ["double"], "default": 0, "description": "Push towards new topics."},
    "frequency_penalty": {"type": ["double"], "default": 0, "description": "Push against repeated words."},
    "seed": {"type": ["int"], "default": "", "description": "Ask for repeatable answers."},
    "detail": {"type": ["string"], "default": "auto", "enum": ["low", "high", "auto"],
               "description": "How closely the model looks at the images."},
}

_METADATA: dict[str, dict[str, Any]] = {
    EMBEDDING: {
        "name": "Embedding", "type": "python", "module": "promptflow.tools.embedding", "function": "embedding",
        "description": "The embedding vector (a list of numbers) of a text, from an OpenAI or Azure OpenAI "
                       "embedding model.",
        "inputs": {
            "connection": {"type": ["AzureOpenAIConnection", "OpenAIConnection"]},
            "deployment_name": {"type": ["string"], "default": "",
                                "description": "The Azure OpenAI deployment (Azure OpenAI connections)."},
            "model": {"type": ["string"], "default": "text-embedding-ada-002",
                      "enum": ["text-embedding-ada-002", "text-search-ada-doc-001", "text-search-ada-query-001"],
                      "description": "The model (OpenAI connections); other names are accepted too."},
            "input": {"type": ["string"], "description": "The text to embed."},
        },
    },
    OPENAI_VISION: {
        "name": "OpenAI GPT-4V", "type": "custom_llm", "module": "promptflow.tools.openai_gpt4v",
        "class_name": "OpenAI", "function": "chat",
        "description": "A chat with an OpenAI vision model: the prompt template's ![image](...) lines become "
                       "image parts.",
        "inputs": {"connection": {"type": ["OpenAIConnection"]},
                   "model": {"type": ["string"], "default": "gpt-4-vision-preview", "enum": ["gpt-4-vision-preview"],
                             "description": "The model; other names are accepted too."},
                   **_CHAT_SETTINGS},
    },
    AZURE_VISION: {
        "name": "Azure OpenAI GPT-4 Turbo with Vision", "type": "custom_llm", "module": "promptflow.tools.aoai_gpt4v",
        "class_name": "AzureOpenAI", "function": "chat",
        "description": "A chat with an Azure OpenAI vision deployment: the prompt template's ![image](...) lines "
                       "become image parts.",
        "inputs": {"connection": {"type": ["AzureOpenAIConnection"]},
                   "deployment_name": {"type": ["string"], "description": "The vision model's deployment."},
                   **_CHAT_SETTINGS},
    },
    SERPAPI: {
        "name": "Serp API", "type": "python", "module": "promptflow.tools.serpapi", "class_name": "SerpAPI",
        "function": "search",
        "description": "Web search results from SerpApi (Google or Bing), as the JSON object SerpApi answers.",
        "inputs": {
            "connection": {"type": ["SerpConnection", "CustomConnection"],
                           "description": "A connection with the secret 'api_key'."},
            "query": {"type": ["string"], "description": "What to search for."},
            "engine": {"type": ["string"], "default": "google", "enum": ["google", "bing"]},
            "location": {"type": ["string"], "default": "", "description": "Where the search is made from."},
            "num": {"type": ["int"], "default": "10", "description": "How many results."},
            "safe": {"type": ["string"], "default": "off", "enum": ["active", "off"],
                     "description": "'active' filters adult content."},
        },
    },
}


def builtin_tools() -> tuple[PackageTool, ...]:
    """The four built-in tools, listed as package ``flowline``."""
    from flowline import __version__

    return tuple(parse_tool(tool_id, meta, "flowline", __version__) for tool_id, meta in _METADATA.items())
