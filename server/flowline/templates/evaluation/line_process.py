from flowline import tool


@tool
def line_process(groundtruth: str, prediction: str) -> str:
    """Grade one line: 'Correct' when the prediction matches the ground truth."""
    return "Correct" if groundtruth.strip().lower() == prediction.strip().lower() else "Incorrect"
