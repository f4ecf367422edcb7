from promptflow import tool


@tool
def describe(**values) -> dict:
    return {name: [type(value).__name__, value] for name, value in sorted(values.items())}
