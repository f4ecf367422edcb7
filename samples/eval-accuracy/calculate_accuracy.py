from flowline import log_metric, tool


@tool
def calculate_accuracy(grades: list) -> dict:
    """Runs once over the graded lines: the share of 'Correct', logged as the run's metric 'accuracy'."""
    accuracy = round(grades.count("Correct") / len(grades), 2) if grades else 0.0
    log_metric("accuracy", accuracy)
    return {"accuracy": accuracy, "lines": len(grades)}
