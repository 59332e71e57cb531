"""A sweep's variations: one request each (its endpoint, its fields, the axis values that made it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from ..endpoints import CostEstimate, EndpointSpec, RequestModel, get, total

ENDPOINT = "endpoint"
SIZE_FIELD = "image_size"  # translated between size models (see endpoints.fit_size)
MISSING = object()  # no value at all (None is a value)


@dataclass(frozen=True)
class Variation:
    """One request of a sweep: where it goes, what it asks and which axis values made it."""

    index: int
    endpoint: str
    request: RequestModel
    params: Mapping[str, Any] = field(default_factory=dict)  # axis name -> this variation's value

    @property
    def spec(self) -> EndpointSpec:
        return get(self.endpoint)

    @property
    def cost(self) -> CostEstimate:
        return self.spec.estimate_cost(self.request)

    def fields(self) -> dict[str, Any]:
        """Every field this variation sends (defaults included, secrets as ``***``), plus its endpoint."""
        return {ENDPOINT: self.endpoint, **self.request.redacted(exclude_unset=False)}

    def sent(self) -> dict[str, Any]:
        """Each axis field as it was sent (JSON form), e.g. ``{"image_size": {"width": 1024, "height": 1024}}``."""
        body = self.request.redacted(exclude_unset=False)
        return {k: body[k] for k in self.params if k != ENDPOINT and k in body}

    def translated(self) -> dict[str, Any]:
        """The axis fields sent in another form than the axis gives them (a size turned into an object)."""
        return {k: v for k, v in self.sent().items() if v != self.params[k]}

    def differences(self, baseline: Variation) -> dict[str, Any]:
        """The fields whose value differs from ``baseline`` (this variation's values), in field order."""
        mine, theirs = self.fields(), baseline.fields()
        return {k: v for k, v in mine.items() if theirs.get(k, MISSING) != v}

    def label(self) -> str:
        """The axis values, e.g. ``quality=low · image_size=1024x1024`` (``base`` when there are no axes)."""
        return " · ".join(f"{k}={describe(v)}" for k, v in self.params.items()) or "base"


def describe(value: Any, width: int = 48) -> str:
    """A short human form of a field value: data URIs and long prompts abbreviated, lists counted."""
    if isinstance(value, str):
        if value.startswith("data:"):
            return f"{value[5:].split(';', 1)[0]} data ({len(value) * 3 // 4 // 1024} KB)"
        return value if len(value) <= width else value[: width - 1] + "…"
    if isinstance(value, (list, tuple)):
        return describe(value[0], width) if len(value) == 1 else f"{len(value)} items"
    if isinstance(value, Mapping):  # an object sent as such, e.g. {"width": 1536, "height": 864}
        return json.dumps(value, default=str)
    return str(value)


class Sweep(Sequence[Variation]):
    """The validated variations of a base request, in axis order (the last axis varies fastest)."""

    def __init__(
        self,
        variations: Sequence[Variation],
        axes: Mapping[str, Sequence[Any]],
        base_endpoint: str,
        base_fields: Mapping[str, Any],
    ) -> None:
        self._variations = tuple(variations)
        self.axes: Mapping[str, tuple[Any, ...]] = {k: tuple(v) for k, v in axes.items()}
        self.base_endpoint = base_endpoint
        self.base_fields: Mapping[str, Any] = dict(base_fields)  # the fields the user set on the base

    @overload
    def __getitem__(self, index: int) -> Variation: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Variation]: ...
    def __getitem__(self, index: int | slice) -> Variation | Sequence[Variation]:
        return self._variations[index]

    def __len__(self) -> int:
        return len(self._variations)

    @property
    def requests(self) -> list[RequestModel]:
        return [v.request for v in self._variations]

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.endpoint for v in self._variations))

    @property
    def cost(self) -> CostEstimate:
        """The total estimate, each request as fal's table prices it (requests with no known price are
        counted, never guessed: see ``cost.unpriced``)."""
        return total([v.cost for v in self._variations])

    def run(self, client: Any = None, *, concurrency: int = 4, timeout: float | None = None) -> list[dict[str, Any]]:
        """Run every variation (at most ``concurrency`` at once) and return one record per variation.

        Failures do not stop the others: a failed variation's record has ``state == "failed"`` and its
        ``error``. Blocks until all finish; an interrupt or ``timeout`` cancels what is still running.
        """
        from ._run import SweepRun

        run = SweepRun(self, client, concurrency=concurrency)
        run.start()
        try:
            if not run.wait(timeout):
                raise TimeoutError(f"sweep did not finish within {timeout} s; unfinished variations were cancelled")
        finally:
            if not run.done:
                run.cancel()
        return run.records()

    def __repr__(self) -> str:
        shape = " × ".join(str(len(v)) for v in self.axes.values())
        axes = f"{' × '.join(self.axes)} ({shape})" if self.axes else "no axes"
        where = ", ".join(self.endpoints)
        lines = [
            f"Sweep: {len(self)} variation{'s' if len(self) != 1 else ''} on {where}; {axes}; estimated {self.cost}"
        ]
        width = max(len(v.label()) for v in self._variations)
        lines += [f"  {v.index:>2}  {v.label():<{width}}  {v.cost}" for v in self._variations[:20]]
        if len(self) > 20:
            lines.append(f"  ... and {len(self) - 20} more")
        return "\n".join(lines)
