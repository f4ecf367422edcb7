from promptflow import tool


@tool
def classify(text: str) -> dict:
    if text == "boom":
        raise ValueError("cannot classify 'boom'")
    category = "number" if text.isdigit() else "word"
    return {"category": category, "length": len(text)}
