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
from .pricing import GPT_IMAGE_1, GPT_IMAGE_1_MINI, GPT_IMAGE_15, CostEstimate, PriceTable, estimate

Kind = Literal["text-to-image", "image-edit"]
Status = Literal["active", "deprecated", "gone"]


class UnknownEndpointError(LookupError):
    """An endpoint id that is not in the registry."""

    def __init__(self, endpoint_id: str, known: list[str]) -> None:
        close = difflib.get_close_matches(endpoint_id, known, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown endpoint {endpoint_id!r}.{hint} Known endpoints: {', '.join(known)}")
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
    prices: PriceTable
    status: Status
    docs_url: str
    note: str = ""
    streaming: bool = False  # answers POST {run host}/{id}/stream with server-sent events (partial images)

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
        return estimate(self.prices, self.validate(request))


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

# Families fal lists as "Streaming supported" (fal's model pages, 2026-12): their endpoints stream.
_STREAMING_FAMILIES = ("openai/gpt-image-2",)

REGISTRY: Mapping[str, EndpointSpec] = {
    spec.id: dataclasses.replace(spec, streaming=True) if spec.id.startswith(_STREAMING_FAMILIES) else spec
    for spec in _SPECS
}


def get(endpoint_id: str) -> EndpointSpec:
    """The spec for ``endpoint_id``; raises :class:`UnknownEndpointError` with a suggestion otherwise."""
    try:
        return REGISTRY[endpoint_id]
    except KeyError:
        raise UnknownEndpointError(endpoint_id, list(REGISTRY)) from None


def find(endpoint_id: str) -> EndpointSpec | None:
    """The spec for ``endpoint_id``, or None for an unregistered (untyped) endpoint."""
    return REGISTRY.get(endpoint_id)
