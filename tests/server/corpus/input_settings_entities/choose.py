from promptflow import tool
from promptflow.entities import DynamicList, InputSetting


def palette() -> list:
    return [{"value": c} for c in ("red", "green", "blue")]


@tool(input_settings={"colors": InputSetting(dynamic_list=DynamicList(function=palette),
                                             is_multi_select=True)})
def choose(colors: list) -> list:
    return sorted(colors)
