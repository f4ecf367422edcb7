from flowline import tool
from quantities import split_item


@tool
def parse_order(text: str) -> dict:
    """Each item of a comma-separated order with its quantity ("3 apples" → {"apples": 3})."""
    items = {}
    for part in text.split(","):
        name, count = split_item(part)
        items[name] = items.get(name, 0) + count  # @bp
    return items
