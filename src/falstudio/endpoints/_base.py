"""Base classes for request and response models: strict requests, tolerant responses."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .._internal.redact import REDACTED
from .fields import fields_of


class RequestModel(BaseModel):
    """A request body for one endpoint.

    Unknown fields are rejected with a message that names them (and a close match when there is one);
    secrets are ``SecretStr`` and appear only in :meth:`payload`.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_attribute_docstrings=False)

    @model_validator(mode="wrap")
    @classmethod
    def _name_unknown_fields(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            if not any(e["type"] == "extra_forbidden" for e in exc.errors()):
                raise
            raise ValidationError.from_exception_data(exc.title, [_explain(cls, e) for e in exc.errors()]) from None

    def payload(self) -> dict[str, Any]:
        """The JSON body to send: fields the user set (required ones always are), secrets revealed."""
        body = self.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        for name in body:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                body[name] = value.get_secret_value()
        return body

    def redacted(self, *, exclude_unset: bool = True) -> dict[str, Any]:
        """A JSON-safe dict for records, logs and code snippets: every secret replaced by ``***``."""
        body = self.model_dump(mode="json", exclude_unset=exclude_unset, exclude_none=True)
        for name in body:
            if isinstance(getattr(self, name), SecretStr):
                body[name] = REDACTED
        return body

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """The names of the fields that hold secrets (``SecretStr``, optional or not)."""
        return tuple(name for name, field in fields_of(cls).items() if field.kind == "secret")


def _explain(model: type[BaseModel], error: Any) -> InitErrorDetails:
    if error["type"] != "extra_forbidden":
        return InitErrorDetails(
            type=PydanticCustomError(error["type"], error["msg"], error.get("ctx")),
            loc=error["loc"],
            input=error["input"],
        )
    name = str(error["loc"][-1])
    known = list(model.model_fields)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known)}"
    return InitErrorDetails(
        type=PydanticCustomError(
            "extra_forbidden", "unknown field '{name}' for this endpoint; {hint}", {"name": name, "hint": hint}
        ),
        loc=error["loc"],
        input=error["input"],
    )


class ImageFile(BaseModel):
    """One generated image as fal describes it. Unknown fields are kept (fal's schemas drift)."""

    model_config = ConfigDict(extra="allow")

    url: str = Field(description="HTTPS URL of the image, or a data URI when sync_mode was set.")
    content_type: str | None = Field(None, description="MIME type, e.g. image/png.")
    file_name: str | None = None
    file_size: int | None = Field(None, description="Size in bytes.")
    width: int | None = None
    height: int | None = None

    def __repr__(self) -> str:
        url = self.url if not self.url.startswith("data:") else self.url[:30] + "..."
        size = f" {self.width}x{self.height}" if self.width and self.height else ""
        return f"ImageFile({url!r}{size}, {self.content_type or 'unknown type'})"


class TokenDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    image_tokens: int | None = None
    text_tokens: int | None = None


class Usage(BaseModel):
    """Token usage OpenAI reports (BYOK endpoints), for reconciling cost estimates."""

    model_config = ConfigDict(extra="allow")

    input_tokens: int | None = None
    input_tokens_details: TokenDetails | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None


class ImageOutput(BaseModel):
    """The response of every GPT Image endpoint: ``{"images": [...]}`` plus optional extras."""

    model_config = ConfigDict(extra="allow")

    images: list[ImageFile]
    usage: Usage | None = None
    description: str | None = None
