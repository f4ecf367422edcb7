from promptflow import tool


@tool
async def count(pages: list) -> int:
    return sum(len(p) for p in pages)
