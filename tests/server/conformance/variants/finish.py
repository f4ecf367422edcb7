from promptflow import tool


@tool
def finish(text: str) -> str:
    return text.strip() + "."
