from promptflow import tool
from promptflow.connections import CustomConnection


@tool
def build_request(connection: CustomConnection, path: str) -> dict:
    settings = dict(connection)
    return {
        "url": connection["endpoint"] + path,
        "region": connection.configs["region"],
        "keys": sorted(connection.keys()),
        "has_token": bool(settings["token"]),
        "secret_names": sorted(connection.secrets),
    }
