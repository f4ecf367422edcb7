from promptflow.contracts.multimedia import Image
from promptflow.core import tool


@tool
def flip(photo: Image) -> Image:
    # A new image made of the same bytes: promptflow saves it as a file of its own.
    return Image(bytes(photo), mime_type="image/png")
