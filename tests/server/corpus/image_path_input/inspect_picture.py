from promptflow import tool
from promptflow.contracts.multimedia import Image


@tool
def inspect_picture(picture: Image) -> dict:
    # A PNG starts with its 8-byte signature.
    return {
        "is_image": isinstance(picture, Image),
        "is_png": bytes(picture[:8]) == b"\x89PNG\r\n\x1a\n",
        "size": len(picture),
        "label": str(picture),
    }
