from promptflow import tool


@tool
def classify(kind: str) -> str:
    return "number" if kind.isdigit() or kind == "number" else "text"
