import flowline_demo_missing_package

from flowline import tool


@tool
def count_words(text: str) -> int:
    """The number of words, as the missing package counts them."""
    return flowline_demo_missing_package.count(text)
