import asyncio

from promptflow import tool


@tool
async def async_gen(n: int):
    for i in range(n):
        await asyncio.sleep(0)
        yield i
