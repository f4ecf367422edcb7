"""Wording helpers shared by several flows: a flow lists this file in its additional_includes."""


def plural(count: int, noun: str) -> str:
    """ "1 item", "2 items"."""
    word = noun if count == 1 else noun + "s"  # @bp
    return f"{count} {word}"
