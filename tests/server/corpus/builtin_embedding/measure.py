from promptflow import tool


@tool
def measure(vector: list) -> int:
    return len(vector)
