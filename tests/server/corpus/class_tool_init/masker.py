from promptflow import ToolProvider, tool


class Masker(ToolProvider):
    def __init__(self, banned: str, replacement: str = "#"):
        super().__init__()
        self.banned = set(banned.split(","))
        self.replacement = replacement

    @tool
    def mask(self, text: str) -> str:
        return " ".join(self.replacement if w in self.banned else w for w in text.split())
