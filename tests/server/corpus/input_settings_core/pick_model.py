from promptflow._core.tool import InputSetting, tool
from promptflow.entities import DynamicList


def list_models(prefix: str = "") -> list:
    return [{"value": "small"}, {"value": "large", "display_value": prefix + "large"}]


input_settings = {
    "model": InputSetting(dynamic_list=DynamicList(function=list_models, input_mapping={"prefix": "mode"}),
                          allow_manual_entry=True, is_multi_select=False),
    "text": InputSetting(enabled_by="mode", enabled_by_value=["fast"]),
}


@tool(name="Pick model", description="Routes a text to a model.", input_settings=input_settings)
def pick_model(model: str, mode: str, text: str) -> str:
    return f"{model}/{mode}: {len(text.split())} words"
