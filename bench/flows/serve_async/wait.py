import asyncio

from promptflow import tool


@tool
async def wait(text: str) -> str:
    """Stands for an I/O-bound dependency (an LLM or an API) that answers in 100 ms."""
    await asyncio.sleep(0.1)
    return text
