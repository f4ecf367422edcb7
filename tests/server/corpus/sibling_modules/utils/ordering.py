def sort_words(text: str) -> list:
    return sorted(text.split())
