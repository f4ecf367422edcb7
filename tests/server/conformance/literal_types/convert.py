
from promptflow import tool


def _show(value):
    return [type(value).__name__, value]


@tool
def convert(as_int: int, as_float: float, as_bool: bool, as_str: str, as_list: list, as_dict: dict,
            untyped_json, untyped_text, optional_int: int | None = None, from_default=1,
            empty_dropped: str = "default kept", null_dropped: int = 5) -> dict:
    values = dict(locals())
    return {name: _show(value) for name, value in sorted(values.items())}
