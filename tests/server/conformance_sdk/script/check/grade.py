from promptflow.core import tool


@tool
def grade(message: str, expected: str) -> str:
    return "right" if message.startswith(expected) else "wrong"
