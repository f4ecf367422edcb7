import re

from flowline import tool

ARITHMETIC = re.compile(r"^[\d\s+\-*/().]+$")


@tool
def classify(question: str) -> str:
    """'math' for plain arithmetic, 'text' for anything else."""
    return "math" if ARITHMETIC.match(question.strip()) else "text"
