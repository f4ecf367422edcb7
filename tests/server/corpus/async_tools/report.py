from promptflow import tool


@tool
def report(pages: list, total: int) -> str:
    return f"{len(pages)} pages, {total} characters"
