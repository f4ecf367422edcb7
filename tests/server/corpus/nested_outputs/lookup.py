from promptflow import tool


@tool
def lookup(city: str) -> dict:
    return {"city": {"name": city, "districts": ["Sentrum", "Grunerlokka"]}, "population": 709}
