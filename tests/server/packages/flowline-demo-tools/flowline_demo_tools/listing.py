"""The ``package_tools`` entry point: tool id → metadata, in the shape promptflow's tool yaml files take."""


def list_package_tools() -> dict:
    """The two tools of this package."""
    return {
        "flowline_demo_tools.tools.shout": {
            "name": "Shout",
            "description": "Repeat a text in capitals.",
            "type": "python",
            "module": "flowline_demo_tools.tools",
            "function": "shout",
            "inputs": {
                "text": {"type": ["string"]},
                "times": {"type": ["int"], "default": "1"},
            },
        },
        "flowline_demo_tools.tools.Greeter.greet": {
            "name": "Greeter",
            "description": "Greet someone with the connection's greeting.",
            "type": "python",
            "module": "flowline_demo_tools.tools",
            "class_name": "Greeter",
            "function": "greet",
            "inputs": {
                "connection": {"type": ["CustomConnection"]},
                "style": {"type": ["string"], "default": "plain", "enum": ["plain", "loud"]},
                "name": {"type": ["string"]},
                "punctuation": {"type": ["string"], "default": "!"},
            },
        },
    }
