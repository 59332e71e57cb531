"""Variations of one request: a base request plus axes, expanded into a validated cartesian product.

>>> from falstudio.endpoints import GptImage1MiniRequest
>>> s = sweep(GptImage1MiniRequest(prompt="a red fox"), quality=["low", "high"],
...           image_size=["1024x1024", "1536x1024"])
>>> len(s), str(s.cost)
(4, '$0.12')

The special axis ``endpoint=[...]`` runs the same request on several endpoints; ``endpoint="..."`` (a string) names
the endpoint of a dict base. Only the fields you set on the base carry over; every endpoint keeps its own defaults.
An ``image_size`` is translated to each endpoint's own size form (``"1024x1024"`` is sent to GPT Image 2 as
``{"width": 1024, "height": 1024}``); a size an endpoint cannot take is reported with the nearest one it takes.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .._internal.gc_pause import gc_paused
from ..endpoints import REGISTRY, RequestModel, SizeNotAccepted, fit_size, get, specs
from ._problems import SweepError, check_axes, check_fields, explain, size_problem
from ._variations import ENDPOINT, MISSING, SIZE_FIELD, Sweep, Variation

__all__ = ["sweep"]


def sweep(base: RequestModel | Mapping[str, Any], /, **axes: Any) -> Sweep:
    """Expand ``base`` over ``axes`` (field name -> list of values) into validated variations.

    ``endpoint=[...]`` is an axis over endpoints; ``endpoint="..."`` names the endpoint of a dict base (a typed
    base knows its own). Raises :class:`SweepError` naming each bad field, endpoint and variation. An endpoint may
    be given as anything whose ``str()`` is its id (a catalog entry from ``falstudio.endpoints.search``).
    """
    if ENDPOINT in axes and not isinstance(axes[ENDPOINT], (str, Sequence)):
        axes[ENDPOINT] = str(axes[ENDPOINT])  # one catalog entry names the base's endpoint
    endpoint_arg = axes.get(ENDPOINT)
    base_endpoint, base_fields = _base(base, endpoint_arg)
    multi = endpoint_arg is not None and not isinstance(endpoint_arg, str)
    if not multi:
        axes.pop(ENDPOINT, None)  # a string names the base's endpoint; a list stays an axis, in call order
    endpoints = list(endpoint_arg or ()) if multi else [base_endpoint]
    problems = check_axes(axes) + check_fields(endpoints, base_fields, axes, multi)
    if problems:
        raise SweepError(problems)

    names = list(axes)
    models = {str(e): get(str(e)).input_model for e in endpoints}
    built = _Builder(models, base_endpoint, base_fields, multi)
    with gc_paused():  # thousands of acyclic requests: no collections while they are made
        combinations = _combinations(names, axes)
        variations = built.together(combinations)
    if variations is None:  # some variation is refused: validate one by one, to name each problem
        variations = built.one_by_one(combinations, problems)
    if problems:
        raise SweepError(problems)
    return Sweep(variations, axes, base_endpoint, base_fields)


class _Builder:
    """Turns axis values into variations: each size value is fitted once per endpoint; the requests of an
    endpoint are validated together (one call into pydantic) and, when that fails, one by one to explain."""

    def __init__(
        self, models: dict[str, type[RequestModel]], base_endpoint: str, base_fields: dict[str, Any], multi: bool
    ) -> None:
        self.models, self.base_endpoint, self.base_fields, self.multi = models, base_endpoint, base_fields, multi
        self.sized = {e for e, model in models.items() if SIZE_FIELD in model.model_fields}
        self.fitted: dict[tuple[str, int], Any] = {}  # (endpoint, id of a size value) -> its form there, or refusal
        self.fixed: dict[str, Any] | None = None  # the base fields, its size fitted, for variations with neither
        if not multi:  # an endpoint nor a size of their own (the base's size is fitted once, not per variation)
            _, fixed = self.arguments({})
            self.fixed = None if isinstance(fixed, SizeNotAccepted) else fixed

    def arguments(self, params: dict[str, Any]) -> tuple[str, dict[str, Any] | SizeNotAccepted]:
        """The endpoint and the fields of one variation (its size in the endpoint's form), or the size's refusal."""
        if self.fixed is not None and SIZE_FIELD not in params:
            return self.base_endpoint, {**self.fixed, **params}
        arguments = {**self.base_fields, **params}
        endpoint = str(arguments.pop(ENDPOINT)) if self.multi else self.base_endpoint
        size = arguments.get(SIZE_FIELD, MISSING)
        if size is not MISSING and endpoint in self.sized:
            fit = self.fitted.get((endpoint, id(size)), MISSING)
            if fit is MISSING:
                try:
                    fit = fit_size(self.models[endpoint], SIZE_FIELD, size)
                except SizeNotAccepted as exc:
                    fit = exc
                self.fitted[endpoint, id(size)] = fit
            if isinstance(fit, SizeNotAccepted):
                return endpoint, fit
            arguments[SIZE_FIELD] = fit
        return endpoint, arguments

    def together(self, combinations: list[dict[str, Any]]) -> list[Variation] | None:
        """Every variation, or None when one is refused."""
        endpoints: list[str] = []
        batches: dict[str, list[dict[str, Any]]] = {e: [] for e in self.models}
        for params in combinations:
            endpoint, arguments = self.arguments(params)
            if isinstance(arguments, SizeNotAccepted):
                return None
            endpoints.append(endpoint)
            batches[endpoint].append(arguments)
        try:
            requests = {e: iter(_many(self.models[e]).validate_python(b)) for e, b in batches.items() if b}
        except ValidationError:
            return None
        return [
            Variation(i, endpoint, next(requests[endpoint]), params)
            for i, (endpoint, params) in enumerate(zip(endpoints, combinations, strict=True))
        ]

    def one_by_one(self, combinations: list[dict[str, Any]], problems: list[str]) -> list[Variation]:
        """The variations that validate; each refused one adds its problems (in variation order)."""
        variations = []
        for index, params in enumerate(combinations):
            endpoint, arguments = self.arguments(params)
            if isinstance(arguments, SizeNotAccepted):
                problems.append(size_problem(index, endpoint, params, arguments, multi_endpoint=self.multi))
                continue
            try:
                request = self.models[endpoint].model_validate(arguments)
            except ValidationError as exc:
                problems += explain(index, endpoint, params, exc, multi_endpoint=self.multi)
                continue
            variations.append(Variation(index, endpoint, request, params))
        return variations


def _combinations(names: list[str], axes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each combination of the axes' values (the cartesian product, in axis order) as ``{axis: value}``."""
    if len(names) == 1:  # the usual sweep: one axis, no tuples to zip
        name = names[0]
        return [{name: value} for value in axes[name]]
    return [dict(zip(names, v, strict=True)) for v in itertools.product(*(axes[n] for n in names))]


@functools.cache
def _many(model: type[RequestModel]) -> TypeAdapter[list[RequestModel]]:
    """Validates a list of ``model`` requests in one call."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _base(base: RequestModel | Mapping[str, Any], endpoint: Any) -> tuple[str, dict[str, Any]]:
    """The base's own endpoint and the fields the user set on it."""
    if isinstance(base, RequestModel):
        fields = {name: getattr(base, name) for name in base.model_fields_set}
        own = next((s.id for s in specs() if type(base) is s.input_model), None)
    elif isinstance(base, Mapping):
        fields, own = dict(base), None
    else:
        raise TypeError(f"base must be a request model or a dict of fields, not {type(base).__name__}")
    if isinstance(endpoint, str):
        return get(endpoint).id, fields
    if own is not None:
        return own, fields
    if endpoint is not None:
        first = next(iter(endpoint), None)
        if first is None:
            raise SweepError(["axis 'endpoint' is empty; give at least one endpoint id"])
        return get(str(first)).id, fields
    raise TypeError(f"a dict base needs its endpoint: sweep(base, endpoint='fal-ai/...'); known: {', '.join(REGISTRY)}")
