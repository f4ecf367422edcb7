from promptflow import tool
from promptflow.contracts.multimedia import Image


@tool
def encode(scan: Image) -> dict:
    return {"base64": scan.to_base64(), "with_type": scan.to_base64(with_type=True)[:40],
            "kind": type(scan).__name__}
