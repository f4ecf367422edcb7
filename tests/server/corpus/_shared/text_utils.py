"""Shared by the corpus flows through additional_includes."""


def squeeze(text: str) -> str:
    return " ".join(text.split())
