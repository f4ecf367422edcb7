from promptflow import tool
from promptflow.contracts.multimedia import Image


def d(v):
    if isinstance(v, Image):
        return {"cls": type(v).__name__, "mime": v._mime_type, "src": getattr(v, "source_url", None), "len": len(v),
                "str": str(v), "repr": repr(v)[:80]}
    if isinstance(v, list):
        return [d(x) for x in v]
    if isinstance(v, dict):
        return {k: d(x) for k, x in v.items()}
    return {"plain": type(v).__name__, "v": str(v)[:80]}


@tool
def describe(img, imgs: list, obj: dict) -> dict:
    return {"img": d(img), "imgs": d(imgs), "obj": d(obj)}
