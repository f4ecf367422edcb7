import os

from promptflow import tool


@tool
def read_settings() -> dict:
    # The token itself is a secret: only its length leaves the tool.
    return {"endpoint": os.environ["SERVICE_ENDPOINT"], "token_length": len(os.environ["SERVICE_TOKEN"]),
            "retries": os.environ["RETRIES"], "verbose": os.environ["VERBOSE"]}
