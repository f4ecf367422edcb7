from promptflow import tool
from promptflow.contracts.multimedia import Image


@tool
def collect(gallery: list) -> list:
    return [item for item in gallery if isinstance(item, Image)]
