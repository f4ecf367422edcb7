from promptflow.core import log_metric, tool


@tool
def summary(scores: list, line_numbers: list) -> dict:
    total = sum(s["score"] for s in scores)
    log_metric("passed", total)
    log_metric("lines", len(line_numbers))
    return {"passed": total, "lines": line_numbers}
