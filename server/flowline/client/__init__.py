"""The Python SDK: :class:`Client` and what it returns and raises (see README, "SDK")."""

from flowline.client.client import Client
from flowline.client.errors import FlowRunError, FlowValidationError, ProblemInfo
from flowline.client.run import Run

__all__ = ["Client", "FlowRunError", "FlowValidationError", "ProblemInfo", "Run"]
