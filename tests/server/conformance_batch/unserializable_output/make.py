from promptflow.core import tool


class Thing:
    """A plain object: json.dumps cannot write it."""

    def __init__(self, text: str) -> None:
        self.text = text


@tool
def make(text: str):
    return Thing(text) if text == "object" else {"text": text}
