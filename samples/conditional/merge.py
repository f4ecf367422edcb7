from typing import Optional

from flowline import tool


@tool
def merge(calculated: Optional[str] = None, explained: Optional[str] = None) -> str:
    """Exactly one branch ran; the other was bypassed, so its input keeps the default None."""
    return calculated if calculated is not None else (explained or "").strip()
