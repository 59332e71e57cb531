"""What is wrong with a sweep, in words: each problem names the variation, the field and the fix."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from .._internal.errors import FalstudioError
from ..endpoints import SizeNotAccepted, get
from ..endpoints.sizes import show
from ._variations import ENDPOINT, SIZE_FIELD, describe

_MAX_PROBLEMS = 12


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


def check_axes(axes: Mapping[str, Any]) -> list[str]:
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


def check_fields(
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


def size_problem(
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


def explain(
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
