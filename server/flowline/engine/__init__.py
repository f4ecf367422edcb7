"""Execution of flows: scheduling, tools, events."""
