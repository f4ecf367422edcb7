"""Stand-in for ``promptflow._sdk._errors``: the errors scripts catch, as :mod:`flowline.client` raises them."""

from typing import Any

from flowline.compat.shim import missing_attribute

__all__ = ["ConnectionNotFoundError", "RunNotFoundError"]  # noqa: F822


def __getattr__(name: str) -> Any:
    if name in __all__:
        from flowline.client import errors

        return getattr(errors, name)
    raise missing_attribute(__name__, name)
