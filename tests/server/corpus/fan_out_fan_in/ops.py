from promptflow import tool


@tool
def ops(n: int, op: str) -> int:
    return {"double": n * 2, "square": n * n, "negate": -n}[op]
