"""The tools, written against promptflow's API as a real tool package is (Flowline serves it from its shim)."""

from promptflow.connections import CustomConnection
from promptflow.core import ToolProvider, tool


@tool
def shout(text: str, times: int = 1) -> str:
    """The text in capitals, ``times`` times, space-separated."""
    return " ".join([text.upper()] * times)


class Greeter(ToolProvider):
    """Greets with the connection's greeting (config ``greeting``) and proves it holds its secret."""

    def __init__(self, connection: CustomConnection, style: str = "plain"):
        super().__init__()
        self.connection = connection
        self.style = style

    @tool
    def greet(self, name: str, punctuation: str = "!") -> dict:
        """A greeting for ``name``."""
        text = f"{self.connection.configs['greeting']}, {name}{punctuation}"
        return {"text": text.upper() if self.style == "loud" else text,
                "secret_length": len(self.connection.secrets["token"])}
