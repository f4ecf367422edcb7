"""Stand-in for ``promptflow.exceptions``: the SDK's error classes under promptflow's names, so a script's
``except UserErrorException`` catches what :class:`flowline.Client` raises for a caller's mistake."""

from typing import Any

from flowline.compat.shim import missing_attribute

__all__ = ["PromptflowException", "UserErrorException", "ValidationException"]  # noqa: F822


def __getattr__(name: str) -> Any:
    if name in __all__:
        from flowline.client import errors

        # promptflow's root, its user-error class and its validation error are one here: every error the SDK
        # raises on purpose is a UserError.
        return errors.FlowValidationError if name == "ValidationException" else errors.UserError
    raise missing_attribute(__name__, name)
