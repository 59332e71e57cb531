"""Typed results: the endpoint's output plus where it came from; its images are :class:`Image` (``_image.py``)."""

from __future__ import annotations

import base64
import html
from collections.abc import ItemsView, Iterator, KeysView, Sequence, ValuesView
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError

from falstudio.endpoints import CostEstimate, ImageOutput

from .._internal.redact import redact
from ._billed import BilledUnits
from ._image import Downloader, Image, Origin, plain_download
from ._status import LogEntry

__all__ = ["Downloader", "Image", "Result", "parse_output", "plain_download"]


class Result(ImageOutput):
    """An endpoint's output (``images`` and any other fields) with the request's story.

    ``data`` is the raw output JSON; ``request`` is what was sent (its repr hides secrets). It also reads like
    the dict fal-client returns: ``result["images"][0]["url"]``, ``result.get("seed")``, ``"seed" in result``,
    ``for key in result``, ``dict(result)`` (plain JSON, ready for ``json.dumps``); typed attributes
    (``result.images[0].save(...)``) work alongside.
    """

    # Unregistered endpoints may return no images (pydantic copies the default per instance).
    images: list[Image] = Field(default_factory=list)  # type: ignore[assignment]

    _endpoint: str = PrivateAttr(default="")
    _request_id: str = PrivateAttr(default="")
    _request: Any = PrivateAttr(default=None)
    _data: Any = PrivateAttr(default=None)
    _queue_seconds: float | None = PrivateAttr(default=None)
    _inference_seconds: float | None = PrivateAttr(default=None)
    _cost: CostEstimate | None = PrivateAttr(default=None)
    _billed: BilledUnits | None = PrivateAttr(default=None)
    _logs: tuple[LogEntry, ...] = PrivateAttr(default=())

    @classmethod
    def build(
        cls,
        output: Any,
        *,
        endpoint: str,
        request_id: str,
        request: Any = None,
        downloader: Downloader | None = None,
        queue_seconds: float | None = None,
        inference_seconds: float | None = None,
        cost: CostEstimate | None = None,
        billed: BilledUnits | None = None,
        logs: Sequence[LogEntry] = (),
    ) -> Result:
        """Validate ``output`` (raises pydantic's ValidationError when it is not the expected shape)."""
        fields = output if isinstance(output, dict) else {}
        if "images" not in fields and isinstance(fields.get("image"), dict):  # endpoints that return one ``image``
            fields = {**fields, "images": [fields["image"]]}
        story = {
            "endpoint": endpoint,
            "request_id": request_id,
            "request": request,
            "data": output,
            "downloader": downloader,
            "queue_seconds": queue_seconds,
            "inference_seconds": inference_seconds,
            "cost": cost,
            "billed": billed,
            "logs": tuple(logs),
            "origin": Origin(),
        }
        return cls.model_validate(fields, context=story)

    def model_post_init(self, context: Any, /) -> None:
        if isinstance(context, dict) and "endpoint" in context:
            self._endpoint, self._request_id = context["endpoint"], context["request_id"]
            self._request, self._data = context["request"], context["data"]
            self._queue_seconds, self._inference_seconds = context["queue_seconds"], context["inference_seconds"]
            self._cost, self._billed, self._logs = context["cost"], context["billed"], context["logs"]
            context["origin"].result = self

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def request_id(self) -> str:
        return self._request_id

    @property
    def request(self) -> Any:
        return self._request

    @property
    def data(self) -> Any:
        """The output JSON exactly as the server sent it."""
        return self._data

    @property
    def queue_seconds(self) -> float | None:
        return self._queue_seconds

    @property
    def inference_seconds(self) -> float | None:
        return self._inference_seconds

    @property
    def cost(self) -> CostEstimate | None:
        """The estimated cost (registered endpoints only); fal bills what it bills."""
        return self._cost

    @property
    def billed(self) -> BilledUnits | None:
        """What fal reported billing (its ``x-fal-billable-units`` header), when it sent one; never a guess."""
        return self._billed

    @property
    def logs(self) -> tuple[LogEntry, ...]:
        """Every log line seen while waiting (when logs were asked for)."""
        return self._logs

    def redacted_request(self) -> Any:
        return redact(self._request)

    # -- the output as fal-client's dict --------------------------------------------------------------

    def _json(self) -> dict[str, Any]:
        """The output as JSON: what the server sent, or (a result built without it) the typed fields dumped."""
        if isinstance(self._data, dict):
            return self._data
        return self.model_dump(mode="json", exclude_none=True)

    def __getitem__(self, key: str) -> Any:
        return self._json()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._json().get(key, default)

    def keys(self) -> KeysView[str]:
        return self._json().keys()

    def values(self) -> ValuesView[Any]:
        return self._json().values()

    def items(self) -> ItemsView[str, Any]:
        return self._json().items()

    def __contains__(self, key: object) -> bool:
        return key in self._json()

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]  # a dict's keys, as on fal-client's result
        return iter(self._json())

    def __len__(self) -> int:
        return len(self._json())

    def __bool__(self) -> bool:
        return True  # a result is there even when its output is empty

    def _summary(self) -> str:
        parts = [self._endpoint or "result", f"request {self._request_id}" if self._request_id else ""]
        if self._inference_seconds is not None:
            parts.append(f"{self._inference_seconds:.1f} s")
        if self._cost is not None:
            parts.append(str(self._cost))
        return " · ".join(p for p in parts if p)

    def __repr__(self) -> str:
        images = ", ".join(repr(i) for i in self.images)
        return f"Result({self._summary()}; images=[{images}]; request={self.redacted_request()!r})"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        tiles = []
        for image in self.images:
            try:
                data, mime = image.thumbnail(192)
                src = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
                tiles.append(f'<img src="{src}" style="max-width:192px;max-height:192px;margin:2px">')
            except Exception:  # a display hook must not raise
                tiles.append(f"<code>{html.escape(repr(image))}</code>")
        caption = html.escape(self._summary())
        return f'<div>{"".join(tiles)}<div style="font-size:smaller">{caption}</div></div>'


def parse_output(output: Any, **context: Any) -> Result:
    """``Result.build`` that turns an unexpected output shape into ValueError with the reason."""
    try:
        return Result.build(output, **context)
    except ValidationError as exc:
        raise ValueError(f"the server's output does not match the expected shape: {exc}") from None
