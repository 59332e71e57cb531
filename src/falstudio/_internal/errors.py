"""The root of every exception and warning falstudio raises on purpose (public as ``falstudio.errors``)."""

from __future__ import annotations

__all__ = ["FalstudioError", "FalstudioWarning"]


class FalstudioError(Exception):
    """Base class of every exception falstudio raises on purpose: ``except fs.errors.FalstudioError`` catches them.

    Each subclass keeps the built-in base that says what kind of problem it is (a bad size is still a
    ``ValueError``, an unknown endpoint a ``LookupError``).
    """

    __module__ = "falstudio.errors"


class FalstudioWarning(FalstudioError, Warning):
    """Base class of falstudio's warnings (filter them with ``category=fs.errors.FalstudioWarning``)."""

    __module__ = "falstudio.errors"
