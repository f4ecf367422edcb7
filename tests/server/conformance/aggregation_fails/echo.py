from promptflow.core import tool


@tool
def echo(x: str) -> str:
    if x == "bad":
        raise ValueError("bad line")
    return x + "!"
