from promptflow import tool


@tool
def greet_formal(name: str) -> str:
    return f"Good day, {name}."
