"""Which inputs and output of a flow hold the chat, and why a flow that is not a chat flow cannot chat.

Mirrors promptflow 1.18.5's check before ``pf flow test --interactive``: a chat flow has exactly one input
marked ``is_chat_input``; a chat-history input (the one marked ``is_chat_history``, else an input named
``chat_history``); at most one output marked ``is_chat_output``, and one
unless the flow has no outputs at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowline.flow.model import Flow, FlowInput, FlowOutput

CHAT_HISTORY = "chat_history"
"""The input promptflow takes as the chat history when no input is marked ``is_chat_history``."""


@dataclass(frozen=True)
class ChatRoles:
    """The chat input, the chat-history input and the chat output of a chat flow (``output`` is None for a
    flow without outputs: each turn's answer is then empty)."""

    input: FlowInput
    history: FlowInput
    output: FlowOutput | None

    def others(self, flow: Flow) -> tuple[FlowInput, ...]:
        """The flow's other inputs, which stay the same from turn to turn."""
        return tuple(i for i in flow.inputs if i.name not in (self.input.name, self.history.name))


def chat_roles(flow: Flow) -> ChatRoles | str:
    """The chat roles of ``flow``, or one sentence saying why it is not a chat flow (for the user).

    The sentence names what to add or change, e.g. "the flow has no input marked 'is_chat_input: true'"."""
    inputs = [i for i in flow.inputs if i.is_chat_input]
    outputs = [o for o in flow.outputs if o.is_chat_output]
    history = next((i for i in flow.inputs if i.is_chat_history), None)
    if history is None:
        history = next((i for i in flow.inputs if i.name == CHAT_HISTORY), None)
    if not inputs:
        return "the flow has no input marked 'is_chat_input: true' (the message each turn sends)"
    if len(inputs) > 1:
        names = ", ".join(f"'{i.name}'" for i in inputs)
        return f"more than one input is marked 'is_chat_input: true' ({names}); a chat flow has one"
    if len(outputs) > 1:
        names = ", ".join(f"'{o.name}'" for o in outputs)
        return f"more than one output is marked 'is_chat_output: true' ({names}); a chat flow has one"
    if not outputs and flow.outputs:
        return "no output is marked 'is_chat_output: true' (the answer each turn shows)"
    if history is None:
        return (f"the flow has no chat-history input: add an input '{CHAT_HISTORY}' of type list "
                "(or mark one 'is_chat_history: true')")
    return ChatRoles(inputs[0], history, outputs[0] if outputs else None)
