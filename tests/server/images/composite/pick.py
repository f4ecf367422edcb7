from promptflow import tool
from promptflow.contracts.multimedia import Image


@tool
def pick(img: Image) -> Image:
    return img
