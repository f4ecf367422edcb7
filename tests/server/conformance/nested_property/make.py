from promptflow.core import tool


@tool
def make(word: str) -> dict:
    return {"a": {"b": [10, {"c": word}]}, "k-x": 7}
