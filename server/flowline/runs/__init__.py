"""Batch runs: data and column mapping, concurrent execution, the run store, metrics and reports."""
