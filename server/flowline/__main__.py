"""``python -m flowline`` is the ``flowline`` command."""

import sys

from flowline.cli import main

sys.exit(main())
