from promptflow.core import tool


@tool
def stream_words(question: str):
    for word in question.split():
        yield word.upper() + " "
