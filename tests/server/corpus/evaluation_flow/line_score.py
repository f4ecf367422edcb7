from promptflow.core import tool


@tool
def line_score(groundtruth: str, prediction: str) -> dict:
    return {"score": int(groundtruth.lower() == prediction.lower())}
