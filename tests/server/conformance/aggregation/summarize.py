from promptflow import log_metric, tool


@tool
def summarize(grades: list, truths: list) -> dict:
    accuracy = grades.count("Correct") / len(grades)
    log_metric("accuracy", accuracy)
    return {"accuracy": accuracy, "truths": truths}
