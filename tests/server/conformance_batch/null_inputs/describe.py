from promptflow.core import tool


@tool
def describe(n: int, b: bool, d: float, s: str) -> dict:
    """Each value as its type and repr, so None, NaN and 'None' stay apart in JSON."""
    return {k: f"{type(v).__name__} {v!r}" for k, v in {"n": n, "b": b, "d": d, "s": s}.items()}
