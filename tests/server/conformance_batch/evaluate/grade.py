from promptflow import tool


@tool
def grade(groundtruth: str, prediction: str) -> str:
    return "Correct" if groundtruth == prediction else "Incorrect"
