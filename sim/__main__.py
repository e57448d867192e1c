"""``python -m sim``: the ``ceasefire`` command line."""

import sys

from sim.cli import main

sys.exit(main())
