from flowline import tool


@tool
def my_python_tool(input1: str) -> str:
    """A Python tool: its parameters are the node's inputs, its return value the node's output."""
    return "Prompt: " + input1
