from promptflow.core import tool


class Thing:
    def __init__(self, text: str) -> None:
        self.text = text


@tool
def make(text: str):
    return Thing(text)
