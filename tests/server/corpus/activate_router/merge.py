from promptflow import tool


@tool
def merge(french: str = "", english: str = "", shouted: str = "(none)") -> str:
    return f"{french or '-'} | {english or '-'} | {shouted}"
