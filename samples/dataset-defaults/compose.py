from flowline import tool


@tool
def compose(name: str, greeting: str, formal: bool = False) -> str:
    """The greeting for one person; the formal variant adds a courtesy."""
    if formal:
        return f"{greeting}, {name}. It is a pleasure to meet you."
    return f"{greeting}, {name}!"
