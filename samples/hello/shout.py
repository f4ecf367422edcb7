from flowline import tool


@tool
def shout(text: str, excited: bool = False) -> dict:
    """Trim the greeting and, when excited, shout it."""
    text = text.strip()
    if excited:
        text = text.upper()
    return {"text": text, "length": len(text)}
