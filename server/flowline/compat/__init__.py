"""Compatibility with tool files written for Prompt flow."""
