from promptflow import tool
from promptflow.contracts.multimedia import Image


@tool
def count_images(gallery: list, album: dict) -> dict:
    return {
        "gallery": ["Image" if isinstance(item, Image) else type(item).__name__ for item in gallery],
        "album": {key: type(value).__name__ for key, value in album.items()},
    }
