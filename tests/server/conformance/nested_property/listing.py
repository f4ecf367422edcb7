from promptflow.core import tool


@tool
def listing(n: int) -> list:
    return [i * 10 for i in range(n)]
