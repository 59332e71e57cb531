"""falstudio's version, in one place below every package (the top-level ``falstudio.__version__`` is this)."""

VERSION = "0.1.0"
__version__ = VERSION  # what `falstudio.__version__` re-exports (under its own name, so type checkers see it)
