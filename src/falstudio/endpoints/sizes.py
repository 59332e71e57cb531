"""Image sizes as fal sends them: a preset name, ``auto``, or an ``ImageSize`` object ``{width, height}``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ImageSize(BaseModel):
    """A custom output size in pixels (fal's ``ImageSize`` object). Endpoint models add their own rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(gt=0, description="Width of the output in pixels.")
    height: int = Field(gt=0, description="Height of the output in pixels.")

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"
