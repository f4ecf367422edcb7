from promptflow import tool


@tool
def detect(text: str) -> str:
    return "fr" if any(w in text.lower().split() for w in ("bonjour", "le", "la")) else "en"
