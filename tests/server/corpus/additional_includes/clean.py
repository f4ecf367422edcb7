from promptflow import tool
from text_utils import squeeze


@tool
def clean(text: str) -> str:
    return squeeze(text)
