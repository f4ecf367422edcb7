from promptflow.core import tool


class Words:
    """An iterator that is not a generator."""

    def __init__(self) -> None:
        self._items = ["hello ", "brave ", "new ", "world "]

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if not self._items:
            raise StopIteration
        return self._items.pop(0)


@tool
def words(text: str):
    return Words()
