"""Stand-in for ``promptflow._sdk``: only ``_errors``, which scripts import to catch a missing run or
connection."""
