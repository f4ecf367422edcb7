from flowline import tool
from wording import plural


@tool
def describe(items: dict, total: int) -> str:
    """One sentence about the order, worded by the shared helper."""
    kinds = len(items)
    return f"{plural(total, 'item')} of {plural(kinds, 'kind')}"
