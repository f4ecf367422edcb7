from promptflow.core import tool


@tool
def tidy(name: str) -> str:
    return name.strip().title()
