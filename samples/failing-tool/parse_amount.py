from flowline import tool


@tool
def parse_amount(text: str) -> int:
    """The amount as a whole number; words are refused on purpose, to show a failing node."""
    cleaned = text.strip().replace(",", "")
    return int(cleaned)
