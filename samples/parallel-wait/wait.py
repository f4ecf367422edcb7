import time

from flowline import tool


@tool
def wait(label: str, seconds: float) -> str:
    """Waits, then says which branch it was (both branches run at the same time)."""
    time.sleep(seconds)
    return f"{label} waited {seconds:g} s"
