from promptflow import tool
from promptflow.contracts.multimedia import Image


def kinds(parts) -> str:
    if isinstance(parts, str):
        return "text"
    return "+".join("Image" if isinstance(part, Image) else type(part).__name__ for part in parts)


@tool
def describe_turn(question: list, chat_history: list) -> str:
    earlier = [kinds(turn["inputs"]["question"]) for turn in chat_history]
    return f"question: {kinds(question)}; earlier: {earlier}"
