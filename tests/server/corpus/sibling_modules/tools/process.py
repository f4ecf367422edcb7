from promptflow import tool
from utils import SEPARATOR
from utils.ordering import sort_words


@tool
def process(text: str) -> str:
    return SEPARATOR.join(sort_words(text))
