import asyncio

from promptflow import tool


async def fetch(url: str) -> str:
    await asyncio.sleep(0)
    return f"<page of {url}>"


@tool
async def fetch_all(urls: list) -> list:
    return list(await asyncio.gather(*(fetch(u) for u in urls)))
