from promptflow.core import tool


@tool
def stream(question: str):
    yield from ["hello ", "brave ", "new ", "world "]
