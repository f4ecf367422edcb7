from promptflow import tool


@tool
def answer(text: str, prefix: str) -> str:
    return f"{prefix} {text}"
