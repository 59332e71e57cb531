"""The request form: a pydantic request model as widgets, validated field by field."""

from ...endpoints.fields import human_title
from ._form import RequestForm

__all__ = ["RequestForm", "human_title"]
