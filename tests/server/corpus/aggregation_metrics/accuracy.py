from promptflow import log_metric, tool


@tool
def accuracy(grades: list) -> dict:
    value = round(grades.count("correct") / len(grades), 2) if grades else 0.0
    log_metric(key="accuracy", value=value)
    return {"accuracy": value}
