from promptflow import tool


@tool
def show(count: int, ratio: float, enabled: bool, labels: list, options: dict, note: str) -> dict:
    return {name: [type(value).__name__, value] for name, value in
            dict(count=count, ratio=ratio, enabled=enabled, labels=labels, options=options, note=note).items()}
