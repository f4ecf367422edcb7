"""A helper module next to the tool that imports it."""


def split_item(part: str) -> tuple[str, int]:
    """ "3 apples" → ("apples", 3); an item without a number counts once."""
    words = part.split()
    if words and words[0].isdigit():
        count = int(words[0])  # @bp
        return " ".join(words[1:]), count
    return " ".join(words), 1
