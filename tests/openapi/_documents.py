"""fal-shaped OpenAPI documents for the tests, written from the shape in the shared notes (gpt-image-2.md §3):
``info.x-fal-metadata``, ``components.schemas`` with ``<Name>Input`` / ``<Name>Output``, ``x-fal-order-properties``,
``anyOf`` with null, ``$ref`` to ``ImageSize`` and ``ImageFile``, and the queue ``paths``.

The GPT Image documents carry the field facts of gpt-image-domain.md §1.2 (and gpt-image-2.md §2); the
``test-org/*`` ones are made-up endpoints that use every shape the builder must handle.
"""

from __future__ import annotations

import copy
from typing import Any

REF = "#/components/schemas/"
PRESETS = ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"]
GPT_SIZES = ["auto", "1024x1024", "1536x1024", "1024x1536"]


def fal_document(
    endpoint_id: str,
    category: str,
    name: str,
    properties: dict[str, Any],
    required: list[str],
    *,
    output: dict[str, Any] | None = None,
    extra_schemas: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One endpoint's queue OpenAPI document as fal serves it (``name`` prefixes the Input/Output schemas)."""
    output = output or {
        "title": f"{name}Output",
        "type": "object",
        "properties": {
            "images": {
                "title": "Images",
                "type": "array",
                "description": "The generated images.",
                "items": {"$ref": f"{REF}ImageFile"},
            }
        },
        "x-fal-order-properties": ["images"],
        "required": ["images"],
    }
    schemas = {
        "QueueStatus": QUEUE_STATUS,
        f"{name}Input": {
            "title": f"{name}Input",
            "type": "object",
            "properties": properties,
            "x-fal-order-properties": list(properties),
            "required": required,
        },
        f"{name}Output": output,
        "ImageFile": IMAGE_FILE,
        "ImageSize": IMAGE_SIZE,
        **(extra_schemas or {}),
    }
    status = {"$ref": f"{REF}QueueStatus"}
    rid = {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.0.4",
        "info": {
            "title": "Queue OpenAPI for " + endpoint_id,
            "version": "1.0.0",
            "description": "The OpenAPI schema for the " + endpoint_id + " queue.",
            "x-fal-metadata": {
                "endpointId": endpoint_id,
                "category": category,
                "thumbnailUrl": "https://fal.media/files/example/thumbnail.png",
                "playgroundUrl": f"https://fal.ai/models/{endpoint_id}",
                "documentationUrl": f"https://fal.ai/models/{endpoint_id}/api",
            },
        },
        "components": {
            "securitySchemes": {
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Fal Key"}
            },
            "schemas": schemas,
        },
        "paths": {
            f"/{endpoint_id}/requests/{{request_id}}/status": {
                "get": {
                    "parameters": [
                        rid,
                        {"name": "logs", "in": "query", "required": False, "schema": {"type": "number"}},
                    ],
                    "responses": {"200": {"description": "The request status.", "content": _json(status)}},
                }
            },
            f"/{endpoint_id}/requests/{{request_id}}/cancel": {
                "put": {"parameters": [rid], "responses": {"200": {"description": "Cancelled."}}}
            },
            f"/{endpoint_id}": {
                "post": {
                    "requestBody": {"required": True, "content": _json({"$ref": f"{REF}{name}Input"})},
                    "responses": {"200": {"description": "The request status.", "content": _json(status)}},
                }
            },
            f"/{endpoint_id}/requests/{{request_id}}": {
                "get": {
                    "parameters": [rid],
                    "responses": {
                        "200": {
                            "description": "Result of the request.",
                            "content": _json({"$ref": f"{REF}{name}Output"}),
                        }
                    },
                }
            },
        },
        "servers": [{"url": "https://queue.fal.run"}],
        "security": [{"apiKeyAuth": []}],
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


QUEUE_STATUS = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]},
        "request_id": {"type": "string", "description": "The request id."},
        "response_url": {"type": "string", "description": "The response url."},
        "status_url": {"type": "string", "description": "The status url."},
        "cancel_url": {"type": "string", "description": "The cancel url."},
        "logs": {"type": "object", "description": "The logs.", "additionalProperties": True},
        "metrics": {"type": "object", "description": "The metrics.", "additionalProperties": True},
        "queue_position": {"type": "integer", "description": "The queue position."},
    },
    "required": ["status", "request_id"],
}
IMAGE_FILE = {
    "title": "ImageFile",
    "type": "object",
    "properties": {
        "url": {"title": "Url", "type": "string", "description": "The URL where the file can be downloaded from."},
        "content_type": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Content Type"},
        "file_name": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "File Name"},
        "file_size": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "File Size"},
        "width": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Width"},
        "height": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Height"},
    },
    "x-fal-order-properties": ["url", "content_type", "file_name", "file_size", "width", "height"],
    "required": ["url"],
}
IMAGE_SIZE = {
    "title": "ImageSize",
    "type": "object",
    "properties": {
        "width": {"title": "Width", "type": "integer", "default": 512, "exclusiveMinimum": 0, "maximum": 14142},
        "height": {"title": "Height", "type": "integer", "default": 512, "exclusiveMinimum": 0, "maximum": 14142},
    },
    "x-fal-order-properties": ["width", "height"],
}


# ---- field shapes of the GPT Image family (gpt-image-domain.md §1.2; gpt-image-2.md §2) -----------------------


def _enum(title: str, values: list[str], default: str, description: str) -> dict[str, Any]:
    return {"enum": values, "title": title, "type": "string", "description": description, "default": default}


def _prompt(min_length: int | None = None, max_length: int | None = None) -> dict[str, Any]:
    prop: dict[str, Any] = {
        "examples": ["A serene cyberpunk street at night, neon signs in the rain"],
        "title": "Prompt",
        "type": "string",
        "description": "The prompt for image generation",
    }
    if min_length is not None:
        prop["minLength"] = min_length
    if max_length is not None:
        prop["maxLength"] = max_length
    return prop


def _num_images() -> dict[str, Any]:
    return {
        "minimum": 1,
        "maximum": 4,
        "type": "integer",
        "title": "Number of Images",
        "default": 1,
        "description": "Number of images to generate",
    }


def _image_urls(max_items: int | None = None) -> dict[str, Any]:
    prop: dict[str, Any] = {
        "examples": [["https://storage.googleapis.com/falserverless/example_inputs/cyberpunk.png"]],
        "title": "Image URLs",
        "type": "array",
        "description": "The URLs of the images to use as a reference for the generation.",
        "items": {"type": "string"},
    }
    if max_items is not None:
        prop["maxItems"] = max_items
    return prop


SYNC_MODE = {
    "title": "Sync Mode",
    "type": "boolean",
    "default": False,
    "description": "If True, the media will be returned as a data URI and the output data won't be "
    "available in the request history.",
}
OUTPUT_FORMAT = _enum("Output Format", ["jpeg", "png", "webp"], "png", "Output format for the images")
BACKGROUND = _enum("Background", ["auto", "transparent", "opaque"], "auto", "Background for the generated image")
QUALITY = _enum("Quality", ["auto", "low", "medium", "high"], "auto", "Quality for the generated image")
OPENAI_KEY = {"title": "OpenAI API Key", "type": "string", "description": "The OpenAI API key to use for the request."}


def _size(values: list[str], default: str) -> dict[str, Any]:
    return _enum("Image Size", values, default, "Aspect ratio for the generated image")


def _fidelity(default: str) -> dict[str, Any]:
    return _enum("Input Fidelity", ["low", "high"], default, "Input fidelity for the generated image")


def _t2i(prompt: dict[str, Any], size: dict[str, Any], quality: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt": prompt,
        "image_size": size,
        "background": BACKGROUND,
        "quality": quality,
        "num_images": _num_images(),
        "output_format": OUTPUT_FORMAT,
        "sync_mode": SYNC_MODE,
    }


def _gpt_image_2(edit: bool) -> dict[str, Any]:
    size = {
        "anyOf": [{"$ref": f"{REF}ImageSize"}, {"enum": ["auto", *PRESETS], "type": "string"}],
        "title": "Image Size",
        "description": "The size of the generated image: a preset, auto, or width and height (multiples of 16, "
        "longest side at most 3840, aspect ratio at most 3:1, 655,360 to 8,294,400 pixels).",
        "default": "auto" if edit else "landscape_4_3",
    }
    props: dict[str, Any] = {"prompt": _prompt(2, 32000)}
    if edit:
        props["image_urls"] = _image_urls(16)
    props |= {
        "image_size": size,
        "quality": _enum("Quality", ["auto", "low", "medium", "high"], "high", "Quality for the generated image"),
        "num_images": _num_images(),
        "output_format": OUTPUT_FORMAT,
        "sync_mode": SYNC_MODE,
    }
    if edit:
        props["mask_url"] = {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "title": "Mask URL",
            "description": "The URL of the mask image to use for the generation.",
        }
    return props


_GPT = {
    # endpoint id: (category, schema name, properties, required)
    "fal-ai/gpt-image-1-mini": (
        "text-to-image",
        "GptImage1Mini",
        _t2i(_prompt(), _size(GPT_SIZES, "auto"), QUALITY),
        ["prompt"],
    ),
    "fal-ai/gpt-image-1-mini/edit": (
        "image-to-image",
        "GptImage1MiniEdit",
        {
            "prompt": _prompt(),
            "image_urls": _image_urls(),
            **{k: v for k, v in _t2i(_prompt(), _size(GPT_SIZES, "auto"), QUALITY).items() if k != "prompt"},
        },
        ["prompt", "image_urls"],
    ),
    "fal-ai/gpt-image-1/text-to-image": (
        "text-to-image",
        "GptImage1",
        _t2i(_prompt(2), _size(GPT_SIZES, "auto"), QUALITY),
        ["prompt"],
    ),
    "fal-ai/gpt-image-1/edit-image": (
        "image-to-image",
        "GptImage1Edit",
        {
            "prompt": _prompt(2),
            "image_urls": _image_urls(),
            "image_size": _size(GPT_SIZES, "auto"),
            "background": BACKGROUND,
            "quality": QUALITY,
            "input_fidelity": _fidelity("high"),
            "num_images": _num_images(),
            "output_format": OUTPUT_FORMAT,
            "sync_mode": SYNC_MODE,
        },
        ["prompt", "image_urls"],
    ),
    "fal-ai/gpt-image-1/text-to-image/byok": (
        "text-to-image",
        "GptImage1Byok",
        {
            "prompt": _prompt(),
            "image_size": _size(GPT_SIZES, "auto"),
            "background": BACKGROUND,
            "quality": QUALITY,
            "num_images": _num_images(),
            "openai_api_key": OPENAI_KEY,
        },
        ["prompt", "openai_api_key"],
    ),
    "fal-ai/gpt-image-1/edit-image/byok": (
        "image-to-image",
        "GptImage1EditByok",
        {
            "image_urls": _image_urls(),
            "prompt": _prompt(),
            "image_size": _size(GPT_SIZES, "auto"),
            "num_images": _num_images(),
            "quality": QUALITY,
            "input_fidelity": _fidelity("low"),
            "openai_api_key": OPENAI_KEY,
        },
        ["image_urls", "prompt", "openai_api_key"],
    ),
    "fal-ai/gpt-image-1.5": (
        "text-to-image",
        "GptImage15",
        _t2i(
            _prompt(2),
            _size(GPT_SIZES[1:], "1024x1024"),
            _enum("Quality", ["low", "medium", "high"], "high", "Quality"),
        ),
        ["prompt"],
    ),
    "fal-ai/gpt-image-1.5/edit": (
        "image-to-image",
        "GptImage15Edit",
        {
            "prompt": _prompt(2),
            "image_urls": _image_urls(),
            "image_size": _size(GPT_SIZES, "auto"),
            "background": BACKGROUND,
            "quality": _enum("Quality", ["low", "medium", "high"], "high", "Quality"),
            "input_fidelity": _fidelity("high"),
            "num_images": _num_images(),
            "output_format": OUTPUT_FORMAT,
            "sync_mode": SYNC_MODE,
            "mask_image_url": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "title": "Mask Image URL",
                "description": "The URL of the mask image to use for the generation.",
            },
        },
        ["prompt", "image_urls"],
    ),
    "openai/gpt-image-2": ("text-to-image", "GptImage2", _gpt_image_2(edit=False), ["prompt"]),
    "openai/gpt-image-2/edit": ("image-to-image", "GptImage2Edit", _gpt_image_2(edit=True), ["prompt", "image_urls"]),
}

GPT_IMAGE = {eid: fal_document(eid, cat, name, props, req) for eid, (cat, name, props, req) in _GPT.items()}


# ---- made-up endpoints with every shape the builder handles ----------------------------------------------------

PIXEL_FLOW = "test-org/pixel-flow"
PIXEL_FLOW_EDIT = "test-org/pixel-flow/edit"  # an endpoint with a sub-path
CLIP_FLOW = "test-org/clip-flow"  # not an image endpoint

_LORA = {
    "title": "LoraWeight",
    "type": "object",
    "properties": {
        "path": {"title": "Path", "type": "string", "description": "URL or the path to the LoRA weights."},
        "scale": {
            "title": "Scale",
            "type": "number",
            "minimum": 0,
            "maximum": 4,
            "default": 1,
            "description": "How strongly the LoRA applies.",
        },
    },
    "x-fal-order-properties": ["path", "scale"],
    "required": ["path"],
}

_PIXEL_FLOW_PROPS: dict[str, Any] = {
    "prompt": {
        "title": "Prompt",
        "type": "string",
        "minLength": 1,
        "maxLength": 2000,
        "description": "The prompt to generate an image from.",
        "examples": ["a fox in the snow"],
    },
    "image_size": {
        "anyOf": [{"$ref": f"{REF}ImageSize"}, {"enum": PRESETS, "type": "string"}],
        "title": "Image Size",
        "description": "The size of the generated image.",
        "default": "landscape_4_3",
    },
    "num_inference_steps": {
        "title": "Num Inference Steps",
        "type": "integer",
        "minimum": 1,
        "maximum": 50,
        "default": 28,
        "description": "The number of inference steps to perform.",
    },
    "seed": {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "title": "Seed",
        "description": "The same seed and prompt give the same image.",
    },
    "guidance_scale": {
        "title": "Guidance scale (CFG)",
        "type": "number",
        "minimum": 1,
        "maximum": 20,
        "default": 3.5,
        "description": "How closely the model sticks to the prompt.",
    },
    "num_images": {
        "title": "Num Images",
        "type": "integer",
        "minimum": 1,
        "maximum": 4,
        "default": 1,
        "description": "The number of images to generate.",
    },
    "output_format": {
        "enum": ["jpeg", "png"],
        "title": "Output Format",
        "type": "string",
        "default": "jpeg",
        "description": "The format of the generated image.",
    },
    "acceleration": {
        "enum": ["none", "regular", "high"],
        "title": "Acceleration",
        "type": "string",
        "default": "none",
        "description": "The speed of the generation.",
    },
    "loras": {
        "title": "Loras",
        "type": "array",
        "maxItems": 3,
        "items": {"$ref": f"{REF}LoraWeight"},
        "description": "LoRAs to apply (at most 3).",
        "default": [],
    },
    "style": {
        "title": "Style",
        "type": "object",
        "description": "A nested object written inline.",
        "properties": {
            "name": {"title": "Name", "type": "string", "default": "plain"},
            "strength": {"title": "Strength", "type": "number", "minimum": 0, "maximum": 1},
        },
    },
    "enable_safety_checker": {
        "title": "Enable Safety Checker",
        "type": "boolean",
        "default": True,
        "description": "If set to true, the safety checker will be enabled.",
    },
}

_PIXEL_FLOW_EDIT_PROPS: dict[str, Any] = {
    "prompt": _PIXEL_FLOW_PROPS["prompt"],
    "image_url": {"title": "Image URL", "type": "string", "description": "The image to edit."},
    "mask_url": {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "title": "Mask URL",
        "description": "Where the mask is white, the image is edited.",
    },
    "strength": {
        "title": "Strength",
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "default": 0.85,
        "description": "How much the image changes.",
    },
    "num_images": _PIXEL_FLOW_PROPS["num_images"],
    "output_format": _PIXEL_FLOW_PROPS["output_format"],
    "sync_mode": {"title": "Sync Mode", "type": "boolean", "default": False},
}

_VIDEO_OUTPUT = {
    "title": "ClipFlowOutput",
    "type": "object",
    "properties": {"video": {"$ref": f"{REF}File", "title": "Video"}},
    "required": ["video"],
}
_FILE = {
    "title": "File",
    "type": "object",
    "properties": {"url": {"type": "string", "title": "Url"}},
    "required": ["url"],
}

TEST_ORG = {
    PIXEL_FLOW: fal_document(
        PIXEL_FLOW, "text-to-image", "PixelFlow", _PIXEL_FLOW_PROPS, ["prompt"], extra_schemas={"LoraWeight": _LORA}
    ),
    PIXEL_FLOW_EDIT: fal_document(
        PIXEL_FLOW_EDIT, "image-to-image", "PixelFlowEdit", _PIXEL_FLOW_EDIT_PROPS, ["prompt", "image_url"]
    ),
    CLIP_FLOW: fal_document(
        CLIP_FLOW,
        "text-to-video",
        "ClipFlow",
        {"prompt": _prompt()},
        ["prompt"],
        output=_VIDEO_OUTPUT,
        extra_schemas={"File": _FILE},
    ),
}


def documents() -> dict[str, Any]:
    """Every document, fresh (tests may change their copy)."""
    return copy.deepcopy({**GPT_IMAGE, **TEST_ORG})
