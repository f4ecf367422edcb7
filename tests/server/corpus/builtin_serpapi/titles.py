from promptflow import tool


@tool
def titles(results: dict) -> list:
    return [item["title"] for item in results.get("organic_results", [])]
