from promptflow import tool


@tool
def rewrite(question: str) -> str:
    return question.capitalize()
