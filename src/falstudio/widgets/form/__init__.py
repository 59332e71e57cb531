"""The request form: a pydantic request model as widgets, validated field by field."""

from ._fields import human_title
from ._form import RequestForm

__all__ = ["RequestForm", "human_title"]
