from promptflow.connections import CustomStrongTypeConnection
from promptflow.contracts.types import Secret
from promptflow.core import tool


class ServiceConnection(CustomStrongTypeConnection):
    """The settings of the item service.

    :param token: The API token.
    :param endpoint: Where the service lives.
    """

    token: Secret
    endpoint: str
    region: str


@tool
def call_service(connection: ServiceConnection, item: str) -> dict:
    return {"url": f"{connection.endpoint}/{connection.region}/items/{item}",
            "authorized": connection.token == "tok-1", "kind": type(connection).__name__}
