from promptflow.core import tool


@tool
def compose(name: str, greeting: str) -> str:
    return f"{greeting}, {name}!"
