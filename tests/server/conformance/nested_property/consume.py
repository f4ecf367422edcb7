from promptflow.core import tool


@tool
def consume(value: str, number: int) -> str:
    return f"{value}:{number}"
