"""pytest: ``page`` needs the ``app`` extra; without it, its module is not collected for doctests."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("solara") else ["page.py"]
