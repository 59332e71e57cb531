"""The request form: a pydantic request model as widgets, validated field by field."""

from ._form import RequestForm

__all__ = ["RequestForm"]
