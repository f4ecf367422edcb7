from promptflow import tool


@tool
def summarize(name: str, age: int, score: float, active: bool, tags: list, profile: dict,
              empty_text: str = "unset") -> dict:
    values = [name, age, score, active, tags, profile, empty_text]
    return {"types": [type(v).__name__ for v in values], "values": values}
