"""Two Prompt flow package tools for Flowline's tests: a function and a class built with a connection."""
