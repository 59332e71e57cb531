"""Request models of fal's GPT Image family, field by field as fal's API pages describe them.

Field shapes follow fal's generated types (2026-08) and zod schemas (2026-02); see the domain notes.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from ._base import RequestModel

GptImage1Size = Literal["auto", "1024x1024", "1536x1024", "1024x1536"]
FixedImageSize = Literal["1024x1024", "1536x1024", "1024x1536"]
Background = Literal["auto", "transparent", "opaque"]
Quality = Literal["auto", "low", "medium", "high"]
FixedQuality = Literal["low", "medium", "high"]
OutputFormat = Literal["jpeg", "png", "webp"]
InputFidelity = Literal["low", "high"]

MAX_PROMPT_CHARS = 32_000
MAX_INPUT_IMAGES = 16


def _image_url(value: str) -> str:
    if value.startswith("data:image/"):
        return value
    if value.startswith(("http://", "https://")):
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError when out of range
        except ValueError as exc:
            raise PydanticCustomError(
                "image_url", "not a valid URL ({why}): '{got}'", {"why": str(exc), "got": value[:60]}
            ) from None
        if not parts.hostname:
            raise PydanticCustomError("image_url", "the URL has no host: '{got}'", {"got": value[:60]})
        return value
    raise PydanticCustomError(
        "image_url",
        "expected an http(s) URL or a data:image/... URI, got '{got}'; for a local file, bytes or a PIL image "
        "pass it through the client (it uploads or encodes it) or use falstudio.encode_file(path)",
        {"got": value[:60]},
    )


ImageUrl = Annotated[str, AfterValidator(_image_url)]


def _has_text(value: str) -> str:
    if value and not value.strip():  # empty is min_length's to say ("required")
        raise PydanticCustomError("blank_prompt", "the prompt is only spaces: describe the image to make")
    return value


_PROMPT_DOC = "The prompt describing the image to generate, or the edit to make."
Prompt = Annotated[
    str, Field(min_length=1, max_length=MAX_PROMPT_CHARS, description=_PROMPT_DOC), AfterValidator(_has_text)
]
Prompt2 = Annotated[
    str, Field(min_length=2, max_length=MAX_PROMPT_CHARS, description=_PROMPT_DOC), AfterValidator(_has_text)
]
ImageUrls = Annotated[
    list[ImageUrl],
    Field(
        min_length=1,
        max_length=MAX_INPUT_IMAGES,
        description="URLs (or data URIs) of the images to edit or use as references; 1 to 16 images.",
    ),
]
SizeField = Annotated[
    GptImage1Size, Field(description="Aspect ratio and size of the output; auto lets the model pick.")
]
FixedSizeField = Annotated[FixedImageSize, Field(description="Aspect ratio and size of the output.")]
BackgroundField = Annotated[
    Background, Field(description="Background of the output; transparent needs png or webp output.")
]
QualityField = Annotated[
    Quality, Field(description="Render quality; higher is slower and costs more. auto lets the model pick.")
]
FixedQualityField = Annotated[FixedQuality, Field(description="Render quality; higher is slower and costs more.")]
NumImages = Annotated[int, Field(ge=1, le=4, description="How many images to generate (1 to 4).")]
FormatField = Annotated[OutputFormat, Field(description="File format of the generated images.")]
SyncMode = Annotated[
    bool,
    Field(
        description="Return images as data URIs in the response instead of CDN URLs; "
        "the output is then not kept in fal's request history."
    ),
]
FidelityField = Annotated[
    InputFidelity,
    Field(description="How closely to preserve details (faces, logos) of the input images; high costs more."),
]
MaskUrl = Annotated[
    ImageUrl | None,
    Field(description="Optional URL of a mask image: where it is transparent, the first input image is edited."),
]
OpenAIKey = Annotated[
    SecretStr,
    Field(description="Your OpenAI API key; the request is billed to it by OpenAI (bring your own key)."),
]


class _GptImageRequest(RequestModel):
    """Shared cross-field rules."""

    @model_validator(mode="after")  # not "wrap": cheaper per request (a sweep validates thousands)
    def _transparent_needs_alpha_format(self) -> Self:
        fmt = getattr(self, "output_format", "png")
        if getattr(self, "background", None) == "transparent" and fmt not in ("png", "webp"):
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError(
                            "transparent_format",
                            "background='transparent' needs output_format 'png' or 'webp', not '{fmt}'; "
                            "change output_format or set background to 'auto' or 'opaque'",
                            {"fmt": fmt},
                        ),
                        loc=("output_format",),
                        input=fmt,
                    )
                ],
            )
        return self


class GptImage1MiniRequest(_GptImageRequest):
    """``fal-ai/gpt-image-1-mini``: text to image with GPT Image 1 Mini."""

    prompt: Prompt
    image_size: SizeField = "auto"
    background: BackgroundField = "auto"
    quality: QualityField = "auto"
    num_images: NumImages = 1
    output_format: FormatField = "png"
    sync_mode: SyncMode = False


class GptImage1MiniEditRequest(_GptImageRequest):
    """``fal-ai/gpt-image-1-mini/edit``: edit or combine images with GPT Image 1 Mini."""

    prompt: Prompt
    image_urls: ImageUrls
    image_size: SizeField = "auto"
    background: BackgroundField = "auto"
    quality: QualityField = "auto"
    num_images: NumImages = 1
    output_format: FormatField = "png"
    sync_mode: SyncMode = False


class GptImage1TextToImageRequest(_GptImageRequest):
    """``fal-ai/gpt-image-1/text-to-image``: text to image with GPT Image 1."""

    prompt: Prompt2
    image_size: SizeField = "auto"
    background: BackgroundField = "auto"
    quality: QualityField = "auto"
    num_images: NumImages = 1
    output_format: FormatField = "png"
    sync_mode: SyncMode = False


class GptImage1EditRequest(_GptImageRequest):
    """``fal-ai/gpt-image-1/edit-image``: edit images with GPT Image 1."""

    prompt: Prompt2
    image_urls: ImageUrls
    image_size: SizeField = "auto"
    background: BackgroundField = "auto"
    quality: QualityField = "auto"
    input_fidelity: FidelityField = "high"
    num_images: NumImages = 1
    output_format: FormatField = "png"
    sync_mode: SyncMode = False


class GptImage1TextToImageByokRequest(_GptImageRequest):
    """``fal-ai/gpt-image-1/text-to-image/byok``: text to image billed to your own OpenAI key."""

    prompt: Prompt
    image_size: SizeField = "auto"
    background: BackgroundField = "auto"
    quality: QualityField = "auto"
    num_images: NumImages = 1
    openai_api_key: OpenAIKey


class GptImage1EditByokRequest(_GptImageRequest):
    """``fal-ai/gpt-image-1/edit-image/byok``: edit images billed to your own OpenAI key."""

    image_urls: ImageUrls
    prompt: Prompt
    image_size: SizeField = "auto"
    num_images: NumImages = 1
    quality: QualityField = "auto"
    input_fidelity: FidelityField = "low"
    openai_api_key: OpenAIKey


class GptImage15Request(_GptImageRequest):
    """``fal-ai/gpt-image-1.5``: text to image with GPT Image 1.5 (no ``auto`` size or quality)."""

    prompt: Prompt2
    image_size: FixedSizeField = "1024x1024"
    background: BackgroundField = "auto"
    quality: FixedQualityField = "high"
    num_images: NumImages = 1
    output_format: FormatField = "png"
    sync_mode: SyncMode = False


class GptImage15EditRequest(_GptImageRequest):
    """``fal-ai/gpt-image-1.5/edit``: edit images with GPT Image 1.5, optionally inside a mask."""

    prompt: Prompt2
    image_urls: ImageUrls
    image_size: SizeField = "auto"
    background: BackgroundField = "auto"
    quality: FixedQualityField = "high"
    input_fidelity: FidelityField = "high"
    num_images: NumImages = 1
    output_format: FormatField = "png"
    sync_mode: SyncMode = False
    mask_image_url: MaskUrl = None
