import time

from promptflow import tool


@tool
def wait(text: str) -> str:
    """Stands for a blocking I/O-bound dependency (an LLM or an API) that answers in 100 ms."""
    time.sleep(0.1)
    return text
