"""The Python SDK: :class:`Client` and what it returns and raises (see README, "SDK")."""

from flowline.client.client import Client
from flowline.client.errors import (
    ConnectionNotFoundError,
    FlowRunError,
    FlowValidationError,
    ProblemInfo,
    RequestError,
    RunNotFoundError,
    UserError,
)
from flowline.client.run import Run

__all__ = ["Client", "ConnectionNotFoundError", "FlowRunError", "FlowValidationError", "ProblemInfo", "RequestError",
           "Run", "RunNotFoundError", "UserError"]
