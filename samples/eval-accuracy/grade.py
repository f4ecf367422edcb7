from flowline import tool


@tool
def grade(groundtruth: str, prediction: str) -> str:
    """'Correct' when the prediction names the ground-truth category (case and spaces ignored)."""
    return "Correct" if groundtruth.strip().lower() == str(prediction).strip().lower() else "Incorrect"
