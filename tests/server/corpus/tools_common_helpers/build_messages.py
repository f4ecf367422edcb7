from promptflow import tool
from promptflow.tools.common import parse_chat, render_jinja_template, to_bool

TEMPLATE = "# system:\nYou check things.{% if verbose %} Explain.{% endif %}\n\n# user:\n{{question}}\n"


@tool
def build_messages(question: str, verbose: str) -> list:
    prompt = render_jinja_template(TEMPLATE, trim_blocks=True, keep_trailing_newline=True,
                                   question=question, verbose=to_bool(verbose))
    return parse_chat(prompt)
