import json
import re

from flowline import tool


@tool
def convert_to_dict(input_str: str) -> dict:
    """Read the classifier's JSON answer; small models wrap or break it, so fall back gracefully."""
    match = re.search(r"\{.*\}", input_str, re.DOTALL)
    try:
        data = json.loads(match.group(0) if match else input_str)
        return {"category": str(data.get("category", "None")), "evidence": str(data.get("evidence", "None"))}
    except (ValueError, AttributeError):
        print(f"The model's answer is not JSON: {input_str!r}")
        return {"category": "None", "evidence": "None"}
