from promptflow import tool


@tool
def merge(without_default, with_default="tool default") -> str:
    return f"{without_default!r} / {with_default!r}"
