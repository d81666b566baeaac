"""The package version (one place; ``wattlas.__version__`` and ``plan.json`` read it)."""

__version__ = "0.1.0"
