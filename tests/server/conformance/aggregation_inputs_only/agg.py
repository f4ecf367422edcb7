from promptflow.core import log_metric, tool


@tool
def agg(values: list) -> dict:
    print("ran over", values)
    log_metric("n", len(values))
    raise RuntimeError("input-only aggregation ran")
