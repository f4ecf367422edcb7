"""Stand-in for ``promptflow.contracts``: the data types tool files use (``multimedia``)."""
