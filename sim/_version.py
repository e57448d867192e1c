"""The installed package version (``0+unknown`` from a source tree that was not installed)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ceasefire-sim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
