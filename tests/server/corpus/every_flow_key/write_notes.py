import os

from promptflow import tool


@tool
def write_notes(changes: list, audience: str) -> str:
    bullets = "\n".join(f"- {change}" for change in changes)
    return f"# Notes for {audience} ({os.environ.get('NOTES_STYLE')})\n{bullets}"
