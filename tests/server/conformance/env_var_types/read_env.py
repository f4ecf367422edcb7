import os

from promptflow import tool

NAMES = ["YES_FLAG", "NO_FLAG", "COUNT", "RATIO", "NOTHING", "ITEMS", "OPTIONS", "TEXT"]


@tool
def read_env() -> dict:
    return {name: os.environ.get(name) for name in NAMES}
