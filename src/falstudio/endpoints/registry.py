"""The endpoint registry: every endpoint id is data here, not scattered through code."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from . import gpt_image as m
from ._base import ImageOutput, RequestModel
from .pricing import GPT_IMAGE_1, GPT_IMAGE_1_MINI, GPT_IMAGE_15, CostEstimate, PriceTable, estimate, no_price

Kind = Literal["text-to-image", "image-edit", "other"]  # "other": typed from fal's schema, not an image endpoint
Status = Literal["active", "deprecated", "gone"]


class UnknownEndpointError(LookupError):
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
    """What falstudio knows about one endpoint."""

    id: str
    title: str
    kind: Kind
    input_model: type[RequestModel]
    output_model: type[BaseModel]
    prices: PriceTable | None  # None: no price known (endpoints typed from fal's schema)
    status: Status
    docs_url: str
    note: str = ""
    category: str = ""  # fal's category, for endpoints typed from fal's OpenAPI schema

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
        if self.prices is None:
            return no_price(
                f"falstudio has no price table for {self.id} (typed from fal's schema); see {self.docs_url}"
            )
        return estimate(self.prices, validated)


def _docs(endpoint_id: str) -> str:
    return f"https://fal.ai/models/{endpoint_id}/api"


_GPT1_NOTE = (
    "OpenAI shut gpt-image-1 down on 2026-10-23; fal may stop serving it. fal-ai/gpt-image-1.5 is the successor."
)
_MINI_15_NOTE = "OpenAI retires this model on 2026-12-01."
_BYOK_NOTE = "Billed to your OpenAI key by OpenAI. " + _GPT1_NOTE
_OPENAI_BILLS = dataclasses.replace(GPT_IMAGE_1, billed_by="OpenAI")

_SPECS = [
    EndpointSpec(
        "fal-ai/gpt-image-1/edit-image/byok",
        "GPT Image 1 — edit (your OpenAI key)",
        "image-edit",
        m.GptImage1EditByokRequest,
        ImageOutput,
        _OPENAI_BILLS,
        "deprecated",
        _docs("fal-ai/gpt-image-1/edit-image/byok"),
        _BYOK_NOTE,
    ),
    EndpointSpec(
        "fal-ai/gpt-image-1-mini",
        "GPT Image 1 Mini",
        "text-to-image",
        m.GptImage1MiniRequest,
        ImageOutput,
        GPT_IMAGE_1_MINI,
        "deprecated",
        _docs("fal-ai/gpt-image-1-mini"),
        _MINI_15_NOTE,
    ),
    EndpointSpec(
        "fal-ai/gpt-image-1-mini/edit",
        "GPT Image 1 Mini — edit",
        "image-edit",
        m.GptImage1MiniEditRequest,
        ImageOutput,
        GPT_IMAGE_1_MINI,
        "deprecated",
        _docs("fal-ai/gpt-image-1-mini/edit"),
        _MINI_15_NOTE,
    ),
    EndpointSpec(
        "fal-ai/gpt-image-1/text-to-image",
        "GPT Image 1",
        "text-to-image",
        m.GptImage1TextToImageRequest,
        ImageOutput,
        GPT_IMAGE_1,
        "deprecated",
        _docs("fal-ai/gpt-image-1/text-to-image"),
        _GPT1_NOTE,
    ),
    EndpointSpec(
        "fal-ai/gpt-image-1/text-to-image/byok",
        "GPT Image 1 (your OpenAI key)",
        "text-to-image",
        m.GptImage1TextToImageByokRequest,
        ImageOutput,
        _OPENAI_BILLS,
        "deprecated",
        _docs("fal-ai/gpt-image-1/text-to-image/byok"),
        _BYOK_NOTE,
    ),
    EndpointSpec(
        "fal-ai/gpt-image-1/edit-image",
        "GPT Image 1 — edit",
        "image-edit",
        m.GptImage1EditRequest,
        ImageOutput,
        GPT_IMAGE_1,
        "deprecated",
        _docs("fal-ai/gpt-image-1/edit-image"),
        _GPT1_NOTE,
    ),
    EndpointSpec(
        "fal-ai/gpt-image-1.5",
        "GPT Image 1.5",
        "text-to-image",
        m.GptImage15Request,
        ImageOutput,
        GPT_IMAGE_15,
        "deprecated",
        _docs("fal-ai/gpt-image-1.5"),
        _MINI_15_NOTE,
    ),
    EndpointSpec(
        "fal-ai/gpt-image-1.5/edit",
        "GPT Image 1.5 — edit",
        "image-edit",
        m.GptImage15EditRequest,
        ImageOutput,
        GPT_IMAGE_15,
        "deprecated",
        _docs("fal-ai/gpt-image-1.5/edit"),
        _MINI_15_NOTE,
    ),
]

REGISTRY: Mapping[str, EndpointSpec] = {spec.id: spec for spec in _SPECS}


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
