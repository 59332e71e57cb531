"""Request models of ``openai/gpt-image-2`` and ``openai/gpt-image-2/edit``, field by field as fal declares them.

Source: fal-js generated types (2026-08-02) and fal's model pages; limits from fal's field descriptions and the
zod schema of fal-js PR #212 (see the shared notes ``gpt-image-2.md`` §2). Unlike GPT Image 1/1.5 the size is a
preset name, ``auto`` or ``{"width": W, "height": H}``; there is no ``background`` and no ``input_fidelity``;
the mask is ``mask_url``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from ._base import RequestModel
from .gpt_image import FormatField, ImageUrls, MaskUrl, NumImages, Prompt2, QualityField, SyncMode
from .sizes import ImageSize, SizeRules

GptImage2Preset = Literal["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"]

GPT_IMAGE_2_SIZES = SizeRules(
    presets=("square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"),
    multiple=16,
    max_side=3840,
    max_ratio=3.0,
    min_pixels=655_360,
    max_pixels=8_294_400,
)
_SIZE_DOC = (
    "A preset name, auto, or a custom size {width, height} (a 'WxH' string such as '1536x864' is accepted and "
    f"sent as the object); custom sizes need {GPT_IMAGE_2_SIZES.describe()}."
)
GptImage2Size = Annotated[
    GptImage2Preset | Literal["auto"] | ImageSize,
    BeforeValidator(GPT_IMAGE_2_SIZES.validate),
    GPT_IMAGE_2_SIZES,
    Field(description=_SIZE_DOC),
]
EditSize = Annotated[
    GptImage2Size, Field(description=_SIZE_DOC.replace("auto,", "auto (infer it from the input images),", 1))
]
QualityDefaultHigh = Annotated[
    QualityField,
    Field(description="Render quality; higher is slower and costs more (high is ~20x low). fal's default is high."),
]


class GptImage2Request(RequestModel):
    """``openai/gpt-image-2``: text to image with GPT Image 2."""

    prompt: Prompt2
    image_size: GptImage2Size = "landscape_4_3"
    quality: QualityDefaultHigh = "high"
    num_images: NumImages = 1
    output_format: FormatField = "png"
    sync_mode: SyncMode = False


class GptImage2EditRequest(RequestModel):
    """``openai/gpt-image-2/edit``: edit or combine up to 16 images with GPT Image 2, optionally inside a mask."""

    prompt: Prompt2
    image_urls: ImageUrls
    image_size: EditSize = "auto"
    quality: QualityDefaultHigh = "high"
    num_images: NumImages = 1
    output_format: FormatField = "png"
    sync_mode: SyncMode = False
    mask_url: MaskUrl = None
