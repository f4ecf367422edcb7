from flowline import tool


@tool
def join(left: str, right: str) -> str:
    """Both branches' answers, once both are in."""
    return f"{left}; {right}"
