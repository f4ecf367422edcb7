import asyncio

from flowline import tool


@tool
async def count_items(items: dict) -> int:
    """How many things the order holds (an async tool: it runs on the engine's event loop)."""
    await asyncio.sleep(0)
    total = sum(items.values())  # @bp
    return total
