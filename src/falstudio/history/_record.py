"""One run record: what was asked, where it ran, how it ended, and where its images are on disk."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator

from falstudio._internal import images as _images
from falstudio.client.recorder import FinalState

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from ._store import HistoryStore

# The client's words for a request (``falstudio.client.State``): "submitting" (recorded before sending, no request
# id yet), "queued" (the server took it; its result not recorded yet), then how it ended; "lost" is the history's
# own: its result can no longer be had.
State = Literal["submitting", "queued", FinalState, "lost"]
STATES: tuple[str, ...] = get_args(State)
IN_FLIGHT: tuple[str, ...] = ("submitting", "queued")
# The words records written before issue 26 use, and what they are now (read in this one place: ``state_words``)
_OLD_WORDS: dict[str, tuple[str, ...]] = {"completed": ("done",), "submitted": IN_FLIGHT}


def state_words(word: str) -> tuple[str, ...]:
    """The states ``word`` names: itself, or what an older word ("completed", "submitted") is called now."""
    return _OLD_WORDS.get(word, (word,))


FILE_REF = "falstudio-history:"  # prefix of a request value that was a data URI, now a file beside the record
SCHEMA_VERSION = 1
MAX_DEPTH = 64  # of a record's request and output (fal's are a few levels deep)
# What the store writes: ``images/<sha256>.<ext>``. A record is a file anyone sharing the folder can write, so a
# path of another shape (``../../.ssh/id_rsa``, ``/etc/passwd``) is never followed: the image counts as not saved.
_IMAGE_PATH = re.compile(r"images/[0-9a-f]{64}\.[a-z0-9]{1,5}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_AMOUNT = re.compile(r"[-+]?[0-9]{1,24}(?:\.[0-9]{0,24})?(?:[eE][-+]?[0-9]{1,2})?")  # exponent: 2 digits at most


class StoredImage(BaseModel):
    """One output image: a content-addressed file in the history folder, plus what fal said about it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    path: str | None = Field(default=None, description="Relative to the history folder; None if it was never fetched.")
    sha256: str | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    url: str | None = Field(default=None, description="Where the server offered it (None for sync_mode data URIs).")

    @field_validator("path", mode="before")
    @classmethod
    def _inside_images(cls, value: Any) -> Any:
        return value if isinstance(value, str) and _IMAGE_PATH.fullmatch(value) else None

    @field_validator("sha256", mode="before")
    @classmethod
    def _a_digest(cls, value: Any) -> Any:
        return value if isinstance(value, str) and _SHA256.fullmatch(value) else None


class RunRecord(BaseModel):
    """A request made through falstudio, as saved on disk (secrets redacted)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    version: int = SCHEMA_VERSION
    endpoint: str
    request_id: str | None = Field(
        default=None, description="None while the server's reply has not been recorded (see ``unconfirmed``)."
    )
    state: State
    stored_request: dict[str, Any] = Field(default_factory=dict, alias="request")
    base_url: str = ""
    mode: Literal["local", "fal"] | None = None
    sync_mode: bool = False
    via: Literal["queue", "run", "stream"] = "queue"  # only queued requests can be fetched again by id
    submitted_at: float | None = None
    finished_at: float | None = None
    queue_seconds: float | None = None
    inference_seconds: float | None = None
    cost_estimate: str | None = None
    cost_amount: str | None = None
    billed_units: str | None = Field(default=None, description="fal's x-fal-billable-units for it, as sent.")
    billed_unit: str | None = Field(default=None, description="Its unit if named; None: the endpoint's own.")
    error: str | None = None
    error_type: str | None = None
    images: list[StoredImage] = Field(default_factory=list)
    output_extra: dict[str, Any] = Field(default_factory=dict, description="Output fields besides images.")
    intent_id: str | None = Field(default=None, description="Set when the request was recorded before sending.")
    writer: str | None = Field(default=None, description="'<host>:<pid>' of the process that sent it.")

    _store: HistoryStore | None = PrivateAttr(None)

    @field_validator("state", mode="before")
    @classmethod
    def _current_words(cls, value: Any, info: ValidationInfo) -> Any:
        """A record written with the older words reads with today's (``submitted`` is ``queued`` once it has a
        request id, ``submitting`` before; ``request_id`` is validated before ``state``)."""
        if isinstance(value, str) and value in _OLD_WORDS:
            words = state_words(value)
            return words[-1] if info.data.get("request_id") else words[0]
        return value

    @field_validator("stored_request", "output_extra", mode="before")
    @classmethod
    def _not_too_deep(cls, value: Any, info: ValidationInfo) -> Any:
        """Nested at most MAX_DEPTH levels: every reader of a record walks it recursively. (A record file with
        fewer brackets than that cannot nest so deep: its reader says so in the context, to skip the walk.)"""
        if not (info.context or {}).get(SHALLOW) and not _depth_within(value, MAX_DEPTH):
            raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
        return value

    @field_validator("cost_amount", "billed_units", mode="before")
    @classmethod
    def _an_amount(cls, value: Any) -> Any:
        """A decimal of sane size: ``1E+400000`` in a hand-edited file would stall every sum and display."""
        if value is None:
            return None
        if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
            raise ValueError(f"{str(value)[:40]!r} is not a decimal amount such as '0.04'")
        return value

    # -- what people ask of a record -------------------------------------------------------------

    @property
    def request(self) -> dict[str, Any]:
        """The request as sent, secrets redacted, input images back as data URIs: ready to run again."""
        rehydrated: dict[str, Any] = self._rehydrate(self.stored_request)
        return rehydrated

    @property
    def prompt(self) -> str:
        return str(self.stored_request.get("prompt", ""))

    @property
    def in_flight(self) -> bool:
        return self.state in IN_FLIGHT

    @property
    def unconfirmed(self) -> bool:
        """Recorded before sending and never answered: the server may have queued it (and may bill it), but
        without a request id it cannot be resumed."""
        return self.request_id is None

    @property
    def recoverable(self) -> bool:
        """Whether the server can hand the result out again by request id (never after ``sync_mode``, nor for
        a sync run or a streamed one)."""
        return not self.sync_mode and self.via == "queue"

    @property
    def latency_seconds(self) -> float | None:
        if self.submitted_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.submitted_at

    @property
    def is_attached(self) -> bool:
        """Whether this record belongs to a history folder (records loaded by ``falstudio.history()`` do)."""
        return self._store is not None

    @property
    def folder(self) -> Path:
        """The history folder this record belongs to."""
        if self._store is None:
            raise RuntimeError("this RunRecord is not attached to a history folder; load it with falstudio.history()")
        return self._store.root

    def image_paths(self) -> list[Path]:
        """Absolute paths of the saved output images, in output order (missing files left out)."""
        return [p for p in (self.folder / i.path for i in self.images if i.path) if p.exists()]

    def image_bytes(self) -> list[bytes]:
        return [p.read_bytes() for p in self.image_paths()]

    def images_pil(self) -> list[PILImage.Image]:
        return [_images.open_image(data) for data in self.image_bytes()]

    def thumbnail(self, index: int = 0, max_px: int = 160) -> tuple[bytes, str] | None:
        """A small preview of output image ``index`` (cached on disk), or None when there is none (no such image,
        or its file is gone or no longer an image)."""
        if self._store is None or index >= len(self.images):
            return None
        return self._store.thumbnail(self.images[index], max_px)

    def resume(self, client: Any = None, *, timeout: float | None = None) -> RunRecord:
        """Re-attach to this request if it was still in flight; returns the updated record.

        ``client``: a ``falstudio.client.Client`` that can reach the request's server. Without one, fal
        records use ``Client()`` (your FAL_KEY) and local records a key-less client for ``base_url``; a
        local server that is gone marks the record ``lost``.
        """
        from ._resume import resume

        store = self._store
        if store is None:
            raise RuntimeError("this RunRecord is not attached to a history folder; load it with falstudio.history()")
        return resume(store, self, client=client, timeout=timeout)

    # -- display ---------------------------------------------------------------------------------

    def __repr__(self) -> str:
        prompt = self.prompt if len(self.prompt) <= 40 else self.prompt[:39] + "…"
        extra = f", error={self.error_type or self.error!r}" if self.error else ""
        if self.unconfirmed:
            extra += ", no request id"
        return (
            f"RunRecord({self.endpoint!r}, {self.state}, prompt={prompt!r}, images={len(self.images)}"
            f"{extra}, request_id={self.request_id!r})"
        )

    def __str__(self) -> str:
        return repr(self)

    def _repr_html_(self) -> str:
        from ._display import records_html

        return records_html([self], total=1)

    # -- internals -------------------------------------------------------------------------------

    def attached(self, store: HistoryStore) -> RunRecord:
        self._store = store
        return self

    def _rehydrate(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._rehydrate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._rehydrate(v) for v in value]
        if isinstance(value, str) and value.startswith(FILE_REF) and self._store is not None:
            path = (self._store.root / value[len(FILE_REF) :]).resolve()
            if path.parent == self._store.images_dir.resolve() and path.exists():  # nothing outside images/
                data = path.read_bytes()
                return _images.to_data_uri(data)
        return value


SHALLOW = "shallow"  # validation context key: the source text cannot nest MAX_DEPTH levels


def _depth_within(value: Any, limit: int) -> bool:
    """Whether ``value``'s dicts and lists nest at most ``limit`` levels (walked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth >= limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((v, depth + 1) for v in children if isinstance(v, (dict, list)))
    return True
