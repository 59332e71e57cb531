"""fal's streaming endpoints: ``POST {run host}/{endpoint}/stream`` answers with server-sent events.

:class:`EventStream` opens the stream (sent like any request: validated, within the budget, see
:mod:`._sending`) and yields each event's JSON (what ``client.stream()`` gives);
:class:`StreamReader` reads events the way fal's own clients do (fal-js's ``stream.done()`` is the *last*
event), defensively, since no fal source documents GPT Image 2's event shapes: the result is the last event
carrying images in a final shape (``images: [...]``, ``image: {...}``, ``*.completed`` with ``b64_json`` or
``url``, OpenAI's ``image_generation.completed``); any other event carrying an image (a URL, a data URI or
base64) is a partial image; an error body ends the run; anything else is a log line. The last events are
kept (bounded) so a stream that ends without a result loses nothing it sent.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._internal.images import sniff_mime, to_data_uri
from . import errors
from ._billed import BilledUnits, billed_units
from ._protocol import Urls, json_body, sse_events
from ._status import LogEntry

if TYPE_CHECKING:
    import httpx

    from falstudio.endpoints import CostEstimate, EndpointSpec

    from ._sending import Arguments, Sender
    from ._settlement import Settlement
    from ._wire import Wire
    from .recorder import FinalState
    from .results import Image

STREAM_PATH = "stream"
_B64_KEYS = ("b64_json", "partial_image_b64", "b64", "base64")
_IMAGE_KEYS = ("image", "partial_image", "images", "data", "output")
_FORMAT_KEYS = ("content_type", "mime_type", "output_format")
_MAX_DEPTH = 4
KEPT_EVENTS = 8  # the last events a stream that ends without a result keeps with its history record
_KEPT_TEXT = 2000  # longer strings in a kept event are shortened (their images are kept decoded beside it)


class EventStream:
    """One streamed run. ``async for event in stream`` opens it and yields each event's JSON object.

    Call :meth:`open` first to learn ``request_id`` (fal's ``x-fal-request-id``) and ``request`` (what was
    sent, validated) before the first event; a non-2xx answer raises the typed error (404/405: this endpoint
    does not stream here). Its estimate is reserved against the client's budget while it runs and counted as
    spent once the stream has ended (closed early: released).

    ``tracked``: followed by a tracked request, which has it recorded in the run history (before it is sent,
    then with its request id) and says how it ended (through its :attr:`settlement`). ``on_sent``: called once
    the request's body has left (the server has it while the client waits for the first event).
    """

    def __init__(
        self,
        sender: Sender,
        endpoint: str,
        arguments: Arguments,
        *,
        validate: bool = True,
        tracked: bool = False,
        headers: Mapping[str, str] | None = None,
        on_sent: Callable[[], object] | None = None,
    ) -> None:
        self.wire: Wire = sender.wire
        self.endpoint = endpoint
        self.request_id = ""
        self.request: Any = None
        self.spec: EndpointSpec | None = None
        self.cost: CostEstimate | None = None
        self.billed: BilledUnits | None = None
        self._sender = sender
        self._arguments = arguments
        self._validate = validate
        self._tracked = tracked
        self._headers = dict(headers or {})
        self._on_sent = on_sent
        self.settlement: Settlement | None = None  # its money and record, once reserved
        self._url = ""
        self._response: httpx.Response | None = None
        self._events: AsyncIterator[Any] | None = None

    async def open(self) -> None:
        if self._events is not None:  # opened (and maybe closed since: never sent twice)
            return
        sender, endpoint = self._sender, self.endpoint
        prepared = await sender.prepare(endpoint, self._arguments, self._validate)
        self.spec, self.request, self.cost = prepared.spec, prepared.request, prepared.cost
        self.settlement = settlement = await sender.reserve(prepared, via="stream", record=self._tracked)
        self._url = url = f"{Urls(self.wire.target.hosts, endpoint).run}/{STREAM_PATH}"
        response = await sender.send(
            prepared,
            url,
            settlement=settlement,
            stream=True,
            headers={**self._headers, "Accept": "text/event-stream"},
            extensions={"trace": self._trace} if self._on_sent is not None else {},
        )
        self._response = response
        self.request_id = response.headers.get("x-fal-request-id", "")
        self.billed = billed_units(response.headers, "stream")
        self._events = self._read(response)
        await settlement.sent(self.request_id, self.billed)

    @property
    def intent_id(self) -> str | None:
        """Its record in the run history while it has no request id (None: not recorded)."""
        return self.settlement.intent_id if self.settlement is not None else None

    async def _trace(self, name: str, info: Any) -> None:
        if name.endswith("send_request_body.complete") and self._on_sent is not None:
            self._on_sent()

    def _settle(self, state: FinalState) -> None:
        """An untracked stream's end, for the budget: read to its end (spent) or closed before (released)."""
        if self.settlement is not None:
            self.settlement.end(state, recorded=False)

    async def _read(self, response: httpx.Response) -> AsyncIterator[Any]:
        if "text/event-stream" not in response.headers.get("content-type", ""):
            await response.aread()  # a plain JSON answer is the whole output in one event
            yield json_body(response, self.endpoint)
            return
        idle = self.wire.timeout  # only pings for the client's whole timeout: the run is not coming
        async for data in sse_events(response.aiter_bytes(), idle_seconds=idle, endpoint=self.endpoint):
            yield data

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Any:
        await self.open()
        assert self._events is not None
        try:
            return await self._events.__anext__()
        except StopAsyncIteration:
            if not self._tracked:  # read to its end: fal ran it, and bills it
                self._settle("done")
            raise
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            await self.aclose()
            raise errors.ServerError(
                f"unreadable stream event: {exc}", endpoint=self.endpoint, request_id=self.request_id
            ) from None
        except Exception as exc:
            import httpx

            if isinstance(exc, errors.FalError):  # too large, or only pings: nothing more is read
                await self.aclose()
                raise
            if isinstance(exc, httpx.TransportError):
                raise errors.network_error(
                    exc, self._url, timeout=self.wire.timeout, endpoint=self.endpoint, request_id=self.request_id
                ) from exc
            raise

    async def aclose(self) -> None:
        """Close the connection (for a run still going, this is how it is cancelled)."""
        response, self._response = self._response, None
        if response is not None:
            await response.aclose()
        if not self._tracked:
            self._settle("cancelled")  # closed before its end (after it, the estimate is already spent)


@dataclass
class StreamUpdate:
    """What one event said: new partial images, an error, or (when it said nothing known) a log line."""

    partials: list[Image] = field(default_factory=list)
    error: errors.FalError | None = None
    log: LogEntry | None = None


class StreamReader:
    """Reads a stream's events in order; ``output`` is the last final-shaped output (the result) so far,
    ``kept`` the last events (shortened) and ``kept_images`` the images found in them."""

    def __init__(self, endpoint: str, request_id: str) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self.output: dict[str, Any] | None = None
        self.kept: deque[Any] = deque(maxlen=KEPT_EVENTS)
        self._images: deque[list[Image]] = deque(maxlen=KEPT_EVENTS)
        self._completed = False  # the output so far is made of ``*.completed`` events (one image each)

    @property
    def kept_images(self) -> list[Image]:
        return [image for images in self._images for image in images]

    def read(self, event: Any) -> StreamUpdate:
        update = StreamUpdate()
        self.kept.append(_shortened(event, 0))
        found = _images_in(event, 0)
        self._images.append(found)
        final, completed = _final_output(event)
        if final is not None:
            if completed and self._completed and self.output is not None:  # one image per completed event
                final = {**final, "images": [*self.output["images"], *final["images"]]}
            elif self.output is not None:  # an earlier output turned out not to be the last: it was a partial
                update.partials += _images_of(self.output)
            self.output, self._completed = final, completed
            return update
        if found:
            update.partials = found
            return update
        error = _error_in(event, self.endpoint, self.request_id)
        if error is not None:
            update.error = error
            return update
        text = json.dumps(event, default=str)
        update.log = LogEntry(f"stream event: {text[:300]}{'…' if len(text) > 300 else ''}", level="DEBUG")
        return update


def _final_output(event: Any) -> tuple[dict[str, Any] | None, bool]:
    """``(output, is a *.completed event)`` when ``event`` is a result in a known shape, else ``(None, False)``."""
    if not isinstance(event, dict):
        return None, False
    kind = str(event.get("type") or "")
    if "partial" in kind:
        return None, False
    if isinstance(event.get("images"), list) and event["images"]:
        return event, False
    if isinstance(event.get("image"), dict) and (image := _image(event["image"])) is not None:
        rest = {k: v for k, v in event.items() if k not in ("image", "type")}
        return {**rest, "images": [image.model_dump(exclude_none=True)]}, False
    if kind.endswith("completed") and (image := _image(event)) is not None:
        facts = {k: event[k] for k in ("usage", "size", "quality", "background") if event.get(k) is not None}
        return {**facts, "images": [image.model_dump(exclude_none=True)]}, True
    return None, False


def _shortened(value: Any, depth: int) -> Any:
    """``value`` for the history record: long strings (base64 images) shortened, nesting bounded."""
    if depth > _MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {str(k): _shortened(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list):
        return [_shortened(v, depth + 1) for v in value[:50]]
    if isinstance(value, str) and len(value) > _KEPT_TEXT:
        return f"{value[:80]}… ({len(value)} characters; any image in it is kept decoded with the record)"
    return value


def _images_of(output: dict[str, Any]) -> list[Image]:
    return [image for item in output.get("images") or () if (image := _image(item)) is not None]


def _images_in(value: Any, depth: int) -> list[Image]:
    """Images anywhere in an event: base64 under a known key, data URIs, or image URLs under image-ish keys."""
    if depth > _MAX_DEPTH:
        return []
    if isinstance(value, dict):
        own = _image(value)
        if own is not None:
            return [own]
        from .results import Image  # pydantic loads with the first result

        found: list[Image] = []
        for key, item in value.items():
            if key in _IMAGE_KEYS and isinstance(item, str) and item.startswith(("http://", "https://")):
                found.append(Image(url=item))
            elif isinstance(item, (dict, list)) or (isinstance(item, str) and item.startswith("data:image/")):
                found += _images_in(item, depth + 1)
        return found
    if isinstance(value, list):
        return [image for item in value for image in _images_in(item, depth + 1)]
    if isinstance(value, str) and value.startswith("data:image/"):
        from .results import Image

        return [Image(url=value)]
    return []


def _image(value: Any) -> Image | None:
    """The image one JSON object describes: ``{"url": ...}`` (as fal's ImageFile) or base64 under a known key."""
    if not isinstance(value, dict):
        return None
    from .results import Image

    fields = {k: v for k, v in value.items() if k in ("file_name", "width", "height") and v is not None}
    url = value.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://", "data:image/")):
        content_type = value.get("content_type")
        return Image.model_validate({**fields, "url": url, "content_type": content_type})
    for key in _B64_KEYS:
        text = value.get(key)
        if isinstance(text, str) and len(text) > 16:
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                continue
            declared = next((str(value[k]) for k in _FORMAT_KEYS if isinstance(value.get(k), str)), "")
            mime = declared if "/" in declared else f"image/{declared.replace('jpg', 'jpeg')}" if declared else ""
            mime = sniff_mime(data, mime or "image/png")
            if mime.startswith("image/"):
                return Image.model_validate({**fields, "url": to_data_uri(data, mime), "content_type": mime})
    return None


def _error_in(event: Any, endpoint: str, request_id: str) -> errors.FalError | None:
    """fal's error body (``detail`` / ``error`` / ``error_type``) or an OpenAI ``{"type": "error"}`` event."""
    if not isinstance(event, dict):
        return None
    error = event.get("error")
    if event.get("type") == "error" or error or (event.get("detail") is not None and "type" not in event):
        detail = event.get("detail") or (error.get("message") if isinstance(error, dict) else error) or "error"
        error_type = event.get("error_type") or (error.get("code") if isinstance(error, dict) else None)
        message = detail if isinstance(detail, str) else json.dumps(detail, default=str)[:300]
        kind = errors.ContentPolicyError if error_type == "content_policy_violation" else errors.ServerError
        return kind(
            f"the streamed run failed: {message}",
            endpoint=endpoint,
            request_id=request_id or None,
            error_type=str(error_type) if error_type else None,
        )
    return None
