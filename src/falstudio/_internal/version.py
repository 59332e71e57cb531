"""falstudio's version, in one place below every package (the top-level ``falstudio.__version__`` is this)."""

VERSION = "0.1.0"
