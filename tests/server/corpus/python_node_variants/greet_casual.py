from promptflow import tool


@tool
def greet_casual(name: str, emoji: bool = True) -> str:
    return f"hey {name}" + (" :)" if emoji else "")
