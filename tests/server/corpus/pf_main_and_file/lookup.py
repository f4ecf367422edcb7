import os

from promptflow import tool

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "glossary.txt"), encoding="utf-8") as handle:
    GLOSSARY = dict(line.strip().split("=", 1) for line in handle if "=" in line)


@tool
def lookup(word: str) -> str:
    return GLOSSARY.get(word, "unknown") + (" [flow]" if __name__ == "__pf_main__" else " [script]")


if __name__ == "__main__":
    print(lookup("llm"))
