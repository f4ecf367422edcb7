from collections.abc import Generator

from promptflow import tool


@tool
def countdown(n: int) -> Generator[str, None, None]:
    for i in range(n, 0, -1):
        yield f"{i}..."
    yield "go"
