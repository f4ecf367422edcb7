"""The inputs an ``llm`` node passes to the model (beside its template's variables): their flow type,
what they mean and which API they belong to. The engine sends them; completion offers them and
hover explains them. Meanings follow the OpenAI API, which Azure OpenAI and OpenAI-compatible
servers share; as in promptflow, ``deployment_name`` names the model on every connection type."""

from __future__ import annotations

from dataclasses import dataclass

# The connection types an LLM node calls (promptflow 1.18.5 also takes `serverless`, which Flowline lacks).
LLM_CONNECTION_TYPES = ("open_ai", "azure_open_ai")


@dataclass(frozen=True)
class LLMParameter:
    """One model parameter: its flow type (how a literal value is read) and its meaning."""

    name: str
    type: str
    description: str
    completion_only: bool = False  # only the completion API takes it


PARAMETERS: tuple[LLMParameter, ...] = (
    LLMParameter("deployment_name", "string", "The model to call: the deployment's name on Azure OpenAI, the model's "
                 "name on OpenAI or an OpenAI-compatible server (e.g. `gpt-4o-mini`)."),
    LLMParameter("model", "string", "The model's name; the same as `deployment_name` (used when that is not set)."),
    LLMParameter("temperature", "double", "Sampling temperature from 0 to 2: higher gives more varied answers, lower "
                 "more focused and repeatable ones. Change this or `top_p`, not both."),
    LLMParameter("top_p", "double", "Nucleus sampling from 0 to 1: only the tokens within this much probability mass "
                 "are considered. Change this or `temperature`, not both."),
    LLMParameter("max_tokens", "int", "The most tokens the answer may have; the prompt and this together must fit the "
                 "model's context length."),
    LLMParameter("stop", "list", "Up to 4 strings; the model stops before writing any of them."),
    LLMParameter("presence_penalty", "double", "From -2.0 to 2.0: positive values penalise tokens that appeared at "
                 "all, nudging the model towards new topics."),
    LLMParameter("frequency_penalty", "double", "From -2.0 to 2.0: positive values penalise tokens by how often they "
                 "appeared, so the model repeats itself less."),
    LLMParameter("seed", "int", "Best-effort determinism: the same seed and parameters tend to give the same answer."),
    LLMParameter("response_format", "object", "`{type: json_object}` (or a `json_schema`) makes the model answer in "
                 "JSON; the prompt should ask for JSON too."),
    LLMParameter("tools", "list", "Functions the model may call (OpenAI's tools format); the node's output is then the "
                 "assistant message with its `tool_calls`."),
    LLMParameter("tool_choice", "object", "Which tool the model must call: `none`, `auto`, `required`, or "
                 "`{type: function, function: {name: ...}}`."),
    LLMParameter("logit_bias", "object", "Token ids mapped to a bias from -100 to 100 added to their likelihood."),
    LLMParameter("n", "int", "How many answers to generate; the node's output is the first."),
    LLMParameter("user", "string", "An id of the end user, passed to the provider for abuse monitoring."),
    LLMParameter("functions", "list", "The older form of `tools`: functions the model may call."),
    LLMParameter("function_call", "object", "The older form of `tool_choice`."),
    LLMParameter("suffix", "string", "Text that follows the completion.", completion_only=True),
    LLMParameter("echo", "bool", "Return the prompt together with the completion.", completion_only=True),
    LLMParameter("best_of", "int", "Generate this many completions on the server and return the best.",
                 completion_only=True),
    LLMParameter("logprobs", "int", "Include the log probabilities of this many most likely tokens.",
                 completion_only=True),
)
BY_NAME: dict[str, LLMParameter] = {p.name: p for p in PARAMETERS}


def describe(name: str) -> str | None:
    """Markdown for hovering the input ``name`` of an llm node, or None when it is no model parameter."""
    found = BY_NAME.get(name)
    if found is None:
        return None
    api = " (completion API only)" if found.completion_only else ""
    return f"**{found.name}**: `{found.type}` — LLM parameter{api}. {found.description}"
