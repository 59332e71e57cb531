"""The work one OpenAPI document may cause while it is typed, and the error that says it is too much."""

from __future__ import annotations

from .._internal.errors import FalstudioError

# Work allowed for one document: a hostile one whose ``$ref``\ s fan out or nest would otherwise take minutes and
# gigabytes. fal's real documents use a few dozen schemas, nested a few levels.
MAX_NODES = 20_000  # schemas visited
MAX_MODELS = 200  # object schemas turned into classes
MAX_SCHEMAS = 2_000  # schemas the document defines (counted before any work)
MAX_DEPTH = 48  # schemas nested inside each other
MAX_ENUM = 1_000  # values of one enum


class SchemaProblem(FalstudioError, ValueError):
    """Why a document cannot be typed; :func:`~.openapi.spec_from_openapi` names the endpoint it is for."""


class WorkLimits:
    """Counts what typing one document costs and refuses it past the limits above.

    ``sizes`` holds the expanded size of each type being built, innermost last: a ``$ref`` to a non-object schema
    is inlined into every type using it (only models are shared), so refs that fan out grow exponentially.
    """

    def __init__(self) -> None:
        self.sizes: list[int] = [0]
        self.nodes = self.models = self.depth = 0

    def visit(self, where: str) -> None:
        """Count one schema visited."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise SchemaProblem(f"it has more than {MAX_NODES:,} schemas to type (the limit), reached at {where}")

    def add_model(self, name: str) -> None:
        """Count one object schema turned into a class."""
        self.models += 1
        if self.models > MAX_MODELS:
            raise SchemaProblem(f"it has more than {MAX_MODELS} object schemas (the limit), reached at {name}")

    def check_enum(self, where: str, values: list[object]) -> None:
        if len(values) > MAX_ENUM:
            raise SchemaProblem(f"{where} lists {len(values):,} allowed values, over the limit of {MAX_ENUM:,}")

    def open(self, size: int) -> None:
        """Start measuring a type nested in the current one, ``size`` nodes to begin with."""
        self.sizes.append(size)

    def close(self) -> int:
        """Stop measuring the innermost type; its expanded size."""
        return self.sizes.pop()

    def grow(self, where: str, size: int) -> None:
        """Count ``size`` expanded nodes into the type being built; refuse a type that would be too large."""
        self.sizes[-1] += size
        if self.sizes[-1] > MAX_NODES:
            raise SchemaProblem(
                f"its $refs fan out: {where} would expand to more than {MAX_NODES:,} schemas (the limit)"
            )
        if self.depth > MAX_DEPTH:
            raise SchemaProblem(f"its schemas nest more than {MAX_DEPTH} levels deep (the limit), reached at {where}")
