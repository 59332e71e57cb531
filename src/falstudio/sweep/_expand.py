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

import difflib
import functools
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from pydantic import TypeAdapter, ValidationError

from .._internal.errors import FalstudioError
from .._internal.gc_pause import gc_paused
from ..endpoints import REGISTRY, CostEstimate, EndpointSpec, RequestModel, SizeNotAccepted, fit_size, get, specs, total
from ..endpoints.sizes import show

__all__ = ["ENDPOINT", "Sweep", "SweepError", "Variation", "describe", "sweep"]

ENDPOINT = "endpoint"
SIZE_FIELD = "image_size"  # translated between size models (see endpoints.fit_size)
_MAX_PROBLEMS = 12
_MISSING = object()


class SweepError(FalstudioError, ValueError):
    """A sweep that cannot run: every problem names the variation, the field and the fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f"\n  ... and {len(problems) - _MAX_PROBLEMS} more" if len(problems) > _MAX_PROBLEMS else ""
        super().__init__(
            f"sweep has {len(problems)} problem{'s' * (len(problems) > 1)}:\n  "
            + "\n  ".join(problems[:_MAX_PROBLEMS])
            + more
        )


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
        return {k: v for k, v in mine.items() if theirs.get(k, _MISSING) != v}

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
    problems = _check_axes(axes) + _check_fields(endpoints, base_fields, axes, multi)
    if problems:
        raise SweepError(problems)

    names = list(axes)
    models = {str(e): get(str(e)).input_model for e in endpoints}
    built = _Builder(models, base_endpoint, base_fields, multi)
    with gc_paused():  # thousands of acyclic requests: no collections while they are made
        combinations = [dict(zip(names, v, strict=True)) for v in itertools.product(*(axes[n] for n in names))]
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

    def arguments(self, params: dict[str, Any]) -> tuple[str, dict[str, Any] | SizeNotAccepted]:
        """The endpoint and the fields of one variation (its size in the endpoint's form), or the size's refusal."""
        arguments = {**self.base_fields, **params}
        endpoint = str(arguments.pop(ENDPOINT)) if self.multi else self.base_endpoint
        size = arguments.get(SIZE_FIELD, _MISSING)
        if size is not _MISSING and endpoint in self.sized:
            fit = self.fitted.get((endpoint, id(size)), _MISSING)
            if fit is _MISSING:
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
                problems.append(_size_problem(index, endpoint, params, arguments, multi_endpoint=self.multi))
                continue
            try:
                request = self.models[endpoint].model_validate(arguments)
            except ValidationError as exc:
                problems += _explain(index, endpoint, params, exc, multi_endpoint=self.multi)
                continue
            variations.append(Variation(index, endpoint, request, params))
        return variations


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


def _check_axes(axes: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            problems.append(f"axis {name!r} needs a list of values, e.g. {name}=[{values!r}]")
        elif not values:
            problems.append(f"axis {name!r} is empty; give at least one value or leave the axis out")
        elif _repeats(values):
            problems.append(f"axis {name!r} repeats a value ({list(values)!r}); list each value once")
    return problems


def _repeats(values: Sequence[Any]) -> bool:
    """Whether a value occurs twice (``==``, as ``in`` compares), in linear time: hashable values by hash,
    others (dicts, lists) bucketed by their JSON form and then compared."""
    try:
        return len(set(values)) < len(values)  # all hashable: one C-level pass
    except TypeError:
        pass
    seen: set[Any] = set()
    buckets: dict[str, list[Any]] = {}
    for value in values:
        try:
            if value in seen:
                return True
            seen.add(value)
            continue
        except TypeError:  # unhashable
            pass
        try:
            key = json.dumps(value, sort_keys=True, default=repr)
        except (TypeError, ValueError):  # keys of mixed types: one shared bucket
            key = ""
        bucket = buckets.setdefault(key, [])
        if value in bucket:
            return True
        bucket.append(value)
    return False


def _check_fields(
    endpoints: Sequence[Any], base_fields: Mapping[str, Any], axes: Mapping[str, Any], multi_endpoint: bool
) -> list[str]:
    """Fields (from the base or an axis) that some endpoint does not have."""
    problems = []
    for endpoint in endpoints:
        spec = get(str(endpoint))
        known = spec.input_model.model_fields
        for name in [*base_fields, *(a for a in axes if a != ENDPOINT and a not in base_fields)]:
            if name in known:
                if name in spec.input_model.secret_fields() and name in axes:
                    problems.append(f"{name!r} cannot be an axis (it is a secret); set it on the base request")
                continue
            where = "an axis" if name in axes else "the base request"
            close = difflib.get_close_matches(name, list(known), n=1)
            fix = (
                f"did you mean {close[0]!r}?"
                if close and not multi_endpoint
                else (
                    f"remove it from {where}" + (f" or drop {spec.id} from the endpoint axis" if multi_endpoint else "")
                )
            )
            problems.append(f"field {name!r} (from {where}) does not exist on {spec.id}; {fix}")
    return problems


def _which(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={(repr if isinstance(v, str) else str)(describe(v))}" for k, v in params.items()) or "base"


def _size_problem(
    index: int, endpoint: str, params: Mapping[str, Any], exc: SizeNotAccepted, multi_endpoint: bool
) -> str:
    """``variation 1 (...): fal-ai/gpt-image-1-mini cannot take image_size '1536x864' (...); nearest: '1536x1024'``."""
    nearest = f"; the nearest it takes is {show(exc.nearest)}" if exc.nearest is not None else ""
    where = (
        f"remove {show(exc.value)} from the {SIZE_FIELD!r} axis"
        if SIZE_FIELD in params
        else (f"change {SIZE_FIELD!r} on the base request")
    )
    fix = where + (f", or drop {endpoint} from the endpoint axis" if multi_endpoint else "")
    return (
        f"variation {index} ({_which(params)}): {endpoint} cannot take {SIZE_FIELD} {show(exc.value)} "
        f"({exc.why}){nearest}; {fix}"
    )


def _explain(
    index: int, endpoint: str, params: Mapping[str, Any], exc: ValidationError, multi_endpoint: bool
) -> list[str]:
    which = _which(params)
    out = []
    for error in exc.errors():
        name = ".".join(str(p) for p in error["loc"]) or "request"
        top = str(error["loc"][0]) if error["loc"] else ""
        fix = f"remove that value from the {top!r} axis" if top in params else f"change {name!r} on the base request"
        if multi_endpoint:
            fix += f", or drop {endpoint} from the endpoint axis"
        where = "" if ENDPOINT in params else f" on {endpoint}"
        out.append(f"variation {index} ({which}){where}: {name}: {error['msg']}; {fix}")
    return out
