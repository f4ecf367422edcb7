from promptflow import tool


@tool
def describe(name: str, districts: list, population: int) -> str:
    return f"{name}: {len(districts)} districts, {population}k people"
