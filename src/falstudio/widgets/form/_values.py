"""How a form's values read: as JSON sends them, as a short repr, and as HTML in the form's reader view."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretStr

from ..._internal.theme import COLOR, esc, style
from ...endpoints import REDACTED
from ._image_list import describe, thumb_html

_REPR_STR_CHARS = 60


def jsonable(value: Any) -> Any:
    """``value`` as JSON sends it (enums as values, models dumped, secrets as ***)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, BaseModel):  # e.g. an ImageSize or a nested object of a schema-typed endpoint
        return value.model_dump(mode="json")
    if isinstance(value, SecretStr):
        return REDACTED
    return value


def short_repr(value: Any) -> str:
    """A deterministic, bounded repr: secrets as ***, data URIs described, long strings cut."""
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, list):
        return "[" + ", ".join(short_repr(v) for v in value) + "]"
    if isinstance(value, str) and value.startswith("data:"):
        return f"<{describe(value)}>"
    if isinstance(value, str) and len(value) > _REPR_STR_CHARS:
        return repr(value[:_REPR_STR_CHARS] + "…")
    return repr(jsonable(value))


def value_html(name: str, value: Any, kind: str, sent: bool) -> str:
    """A field's value in the form's reader view: images as thumbnails, secrets hidden, defaults marked."""
    muted = f'<span style="{style(color=COLOR["muted"])}">'
    if kind == "secret":
        return f"{REDACTED} (held in Python)" if value is not None else f"{muted}not set</span>"
    if value is None or value == [] or value == "":
        return f"{muted}unset</span>"
    if kind in ("image", "images"):
        urls = value if isinstance(value, list) else [value]
        shown = "".join(
            f'<div style="margin:2px 0">{thumb_html(u, f"{name} image {i + 1}")} {esc(describe(u))}</div>'
            for i, u in enumerate(urls[:4])
        )
        more = f"{muted}… and {len(urls) - 4} more</span>" if len(urls) > 4 else ""
        return shown + more
    if isinstance(value, bool):  # words, not Python's False
        text = "yes" if value else "no"
    else:
        text = esc(json.dumps(value) if isinstance(value, Mapping) else jsonable(value))  # a custom size as sent
    if isinstance(value, str) and len(value) > 400:
        text = esc(value[:400]) + "…"
    return text if sent else f"{text} {muted}(default)</span>"
