from promptflow import log_metric, tool


@tool
def accuracy(grades: list) -> float:
    value = round(grades.count("Correct") / len(grades), 4)
    log_metric("accuracy", value)
    log_metric("graded", len(grades))
    return value
