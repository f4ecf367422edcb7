from flowline import log_metric, tool


@tool
def aggregate(processed_results: list) -> dict:
    """Runs once over all lines: log the accuracy as a metric of the run."""
    total = len(processed_results)
    correct = sum(1 for result in processed_results if result == "Correct")
    accuracy = round(correct / total, 2) if total else 0.0
    log_metric(key="accuracy", value=accuracy)
    return {"accuracy": accuracy, "count": total}
