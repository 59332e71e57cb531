"""The endpoint registry: every endpoint id is data here, not scattered through code."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from .._internal.errors import FalstudioError
from . import gpt_image as m
from . import lifecycle as life
from ._base import ImageOutput, RequestModel
from .fields import Field, fields_of
from .gpt_image_2 import GptImage2EditRequest, GptImage2Request
from .lifecycle import Lifecycle, Status
from .pricing import (
    GPT_IMAGE_1,
    GPT_IMAGE_1_MINI,
    GPT_IMAGE_2,
    GPT_IMAGE_15,
    CostEstimate,
    PriceTable,
    estimate,
)

Kind = Literal["text-to-image", "image-edit", "other"]  # "other": typed from fal's schema, not an image endpoint


class UnknownEndpointError(FalstudioError, LookupError):
    """An endpoint id falstudio cannot type: not in the registry, and (``reason``) not loadable from fal's schema."""

    def __init__(self, endpoint_id: str, known: list[str], reason: str | None = None) -> None:
        close = difflib.get_close_matches(endpoint_id, known, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        why = f" {reason}." if reason else ""
        super().__init__(f"unknown endpoint {endpoint_id!r}.{hint}{why} Registered endpoints: {', '.join(known)}")
        self.reason = reason
        self.endpoint_id = endpoint_id
        self.suggestion = close[0] if close else None

    def __str__(self) -> str:  # LookupError would quote the whole message
        return str(self.args[0])


@dataclass(frozen=True)
class EndpointSpec:
    """What falstudio knows about one endpoint.

    ``status`` is the lifecycle status on the day the registry was loaded; :meth:`status_on` and
    :meth:`note_on` work it out from ``lifecycle``'s dates for any day (default: today).
    """

    id: str
    title: str
    kind: Kind
    input_model: type[RequestModel]
    output_model: type[BaseModel]
    prices: PriceTable | None  # None: no price known (endpoints typed from fal's schema)
    status: Status
    docs_url: str
    note: str = ""  # what holds whatever the date (e.g. who bills)
    lifecycle: Lifecycle | None = None
    streaming: bool = False  # answers POST {run host}/{id}/stream with server-sent events (partial images)
    category: str = ""  # fal's category, for endpoints typed from fal's OpenAPI schema

    @property
    def successor(self) -> str | None:
        """The endpoint to use instead of this one, if it is deprecated or retired."""
        return self.lifecycle.successor if self.lifecycle is not None else None

    def status_on(self, today: datetime.date | None = None) -> Status:
        return self.lifecycle.status(today) if self.lifecycle is not None else self.status

    def note_on(self, today: datetime.date | None = None) -> str:
        """The lifecycle as of ``today`` in words, then :attr:`note`."""
        dated = self.lifecycle.note(today) if self.lifecycle is not None else ""
        return " ".join(part for part in (dated, self.note) if part)

    @property
    def fields(self) -> Mapping[str, Field]:
        """``{name: Field}`` for the request's fields, in order: kind, title, help, default, choices, limits."""
        return fields_of(self.input_model)

    @property
    def is_byok(self) -> bool:
        return "openai_api_key" in self.input_model.model_fields

    def validate(self, arguments: Mapping[str, Any] | RequestModel) -> RequestModel:
        """A typed request from a dict (raises pydantic's ValidationError naming each bad field)."""
        if isinstance(arguments, self.input_model):
            return arguments
        if isinstance(arguments, BaseModel):
            arguments = arguments.model_dump(exclude_unset=True)
        return self.input_model.model_validate(arguments)

    def estimate_cost(self, request: Mapping[str, Any] | RequestModel) -> CostEstimate:
        validated = self.validate(request)
        if self.prices is None:  # typed from fal's schema: fal's unit price, when fetched
            from .unit_pricing import estimate_by_unit

            return estimate_by_unit(self.id, validated, self.docs_url)
        return estimate(self.prices, validated)


def _docs(endpoint_id: str) -> str:
    return f"https://fal.ai/models/{endpoint_id}/api"


_BYOK_NOTE = "Billed to your OpenAI key by OpenAI."
_OPENAI_BILLS = dataclasses.replace(GPT_IMAGE_1, billed_by="OpenAI")


def _spec(
    endpoint_id: str,
    title: str,
    kind: Kind,
    model: type[RequestModel],
    prices: PriceTable,
    lifecycle: Lifecycle,
    note: str = "",
) -> EndpointSpec:
    return EndpointSpec(
        endpoint_id, title, kind, model, ImageOutput, prices, lifecycle.status(), _docs(endpoint_id), note, lifecycle
    )


T2I: Kind = "text-to-image"
EDIT: Kind = "image-edit"
_SPECS = [
    _spec("openai/gpt-image-2", "GPT Image 2", T2I, GptImage2Request, GPT_IMAGE_2, life.LIVE),
    _spec("openai/gpt-image-2/edit", "GPT Image 2 — edit", EDIT, GptImage2EditRequest, GPT_IMAGE_2, life.LIVE),
    _spec(
        "fal-ai/gpt-image-1/edit-image/byok",
        "GPT Image 1 — edit (your OpenAI key)",
        EDIT,
        m.GptImage1EditByokRequest,
        _OPENAI_BILLS,
        life.gpt_image_1(EDIT, fal_deprecated=True),
        _BYOK_NOTE,
    ),
    _spec(
        "fal-ai/gpt-image-1-mini",
        "GPT Image 1 Mini",
        T2I,
        m.GptImage1MiniRequest,
        GPT_IMAGE_1_MINI,
        life.gpt_image_1_mini(T2I),
    ),
    _spec(
        "fal-ai/gpt-image-1-mini/edit",
        "GPT Image 1 Mini — edit",
        EDIT,
        m.GptImage1MiniEditRequest,
        GPT_IMAGE_1_MINI,
        life.gpt_image_1_mini(EDIT),
    ),
    _spec(
        "fal-ai/gpt-image-1/text-to-image",
        "GPT Image 1",
        T2I,
        m.GptImage1TextToImageRequest,
        GPT_IMAGE_1,
        life.gpt_image_1(T2I),
    ),
    _spec(
        "fal-ai/gpt-image-1/text-to-image/byok",
        "GPT Image 1 (your OpenAI key)",
        T2I,
        m.GptImage1TextToImageByokRequest,
        _OPENAI_BILLS,
        life.gpt_image_1(T2I),
        _BYOK_NOTE,
    ),
    _spec(
        "fal-ai/gpt-image-1/edit-image",
        "GPT Image 1 — edit",
        EDIT,
        m.GptImage1EditRequest,
        GPT_IMAGE_1,
        life.gpt_image_1(EDIT),
    ),
    _spec("fal-ai/gpt-image-1.5", "GPT Image 1.5", T2I, m.GptImage15Request, GPT_IMAGE_15, life.gpt_image_15(T2I)),
    _spec(
        "fal-ai/gpt-image-1.5/edit",
        "GPT Image 1.5 — edit",
        EDIT,
        m.GptImage15EditRequest,
        GPT_IMAGE_15,
        life.gpt_image_15(EDIT),
    ),
]

# Families fal lists as "Streaming supported" (fal's model pages, 2026-12): their endpoints stream.
_STREAMING_FAMILIES = ("openai/gpt-image-2",)

REGISTRY: Mapping[str, EndpointSpec] = {
    spec.id: dataclasses.replace(spec, streaming=True) if spec.id.startswith(_STREAMING_FAMILIES) else spec
    for spec in _SPECS
}


def get(endpoint_id: str) -> EndpointSpec:
    """The spec for ``endpoint_id``: the registered one, else one typed from fal's OpenAPI schema (loaded once,
    then cached on disk). Raises :class:`UnknownEndpointError` (with a suggestion and the reason) otherwise."""
    spec = REGISTRY.get(endpoint_id)
    if spec is not None:
        return spec
    from . import loader

    return loader.load(endpoint_id)


def find(endpoint_id: str) -> EndpointSpec | None:
    """The spec for ``endpoint_id`` if falstudio has it offline (registered, loaded or cached), else None."""
    spec = REGISTRY.get(endpoint_id)
    if spec is not None:
        return spec
    from . import loader

    return loader.cached(endpoint_id)


def refresh(endpoint_id: str) -> EndpointSpec:
    """Fetch fal's OpenAPI schema for ``endpoint_id`` again, replacing the cached copy; returns the spec built from
    it (for a registered endpoint the hand-written row stays what :func:`get` returns)."""
    from . import loader

    return loader.refresh(endpoint_id)


def specs() -> list[EndpointSpec]:
    """The registered endpoints, then those loaded from fal's schema in this process."""
    from . import loader

    return [*REGISTRY.values(), *(s for s in loader.loaded() if s.id not in REGISTRY)]
