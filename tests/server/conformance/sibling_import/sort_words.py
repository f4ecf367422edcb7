from helpers import join_sorted
from promptflow import tool


@tool
def sort_words(words: list) -> str:
    return join_sorted(words)
