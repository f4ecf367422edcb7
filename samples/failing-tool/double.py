from flowline import tool


@tool
def double(value: int) -> int:
    """Twice the amount."""
    return value * 2
