from promptflow.core import tool
from promptflow.tracing import trace


@trace
def square(x: float) -> float:
    return x * x


@tool
def sum_up(numbers: list) -> float:
    return float(sum(square(n) for n in numbers))
