from promptflow.core import tool


@tool
def agg(values: list) -> dict:
    raise RuntimeError("aggregation broke")
