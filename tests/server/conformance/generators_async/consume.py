from promptflow import tool


@tool
def consume(chunks) -> str:
    return "|".join(str(chunk) for chunk in chunks)
