"""Stand-in for ``promptflow._core``: the one part tool files import (``promptflow._core.tool``)."""
