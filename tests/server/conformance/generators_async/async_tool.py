import asyncio

from promptflow import tool


@tool
async def async_tool(n: int) -> dict:
    await asyncio.sleep(0.01)
    return {"doubled": n * 2}
