from promptflow.core import tool


@tool
def count_words(question: str) -> int:
    return len(question.split())
