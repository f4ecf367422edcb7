from promptflow import tool


@tool
def combine(first: int, second: int, third: int, parts: list, label: str) -> dict:
    # References inside a list literal are not resolved: parts keeps the text.
    return {"parts": parts, label: first + second + third}
