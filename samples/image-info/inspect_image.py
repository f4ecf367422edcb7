import struct

from promptflow.contracts.multimedia import Image
from promptflow.core import tool


@tool
def inspect_image(picture: Image) -> dict:
    """The picture itself and a line about it (a PNG's size is in its header)."""
    if bytes(picture[:8]) == b"\x89PNG\r\n\x1a\n":
        width, height = struct.unpack(">II", bytes(picture[16:24]))
        summary = f"a {width}x{height} PNG image of {len(picture)} bytes"
    else:
        summary = f"an image of {len(picture)} bytes"
    return {"picture": picture, "summary": summary}
