from promptflow import tool


@tool
def finish(rewritten: str, suffix: str) -> str:
    return rewritten + suffix
