from promptflow import tool


@tool
def branch(label: str) -> str:
    return f"ran {label}"
