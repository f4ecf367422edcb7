from promptflow import tool


def _check(divisor: int) -> None:
    if divisor == 0:
        raise ZeroDivisionError("cannot divide 10 by zero")


@tool
def divide(divisor: int) -> float:
    _check(divisor)
    return 10 / divisor
