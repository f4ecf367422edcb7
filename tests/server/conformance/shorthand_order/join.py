from promptflow import tool


@tool
def join(left: str, right: str) -> str:
    return f"({left}+{right})"
