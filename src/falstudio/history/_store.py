"""The history folder: one JSON file per run record, images stored once by content.

Layout::

    <history dir>/records/<UTC time>-<request id>.json   one record, rewritten atomically on each change
    <history dir>/images/<sha256>.<ext>                  output images and input images of requests
    <history dir>/thumbs/<sha256>-<px>.<ext>             cached previews

One file per record and atomic renames make concurrent writers (several kernels) safe without locks: each
record has a single writer at a time, and images with the same name have the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import time
import warnings
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from falstudio._internal import images as _images
from falstudio._internal.images import THUMBNAIL_PX
from falstudio._internal.redact import redact, scrub_text
from falstudio.client.recorder import Finished, Submitted

from ._files import atomic_write, extension, store_blob
from ._paths import history_dir
from ._record import FILE_REF, RunRecord, StoredImage


class HistoryWarning(UserWarning):
    """A record that could not be read or written; the rest of the history is unaffected."""


class HistoryStore:
    """Run records in one folder; implements the client's ``Recorder`` hook.

    ``path`` defaults to ``$FALSTUDIO_HISTORY_DIR``, else the per-user data folder. Nothing is created on
    disk until the first record is written.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.root = history_dir(path)
        self._paths: dict[tuple[str, str], Path] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.root)!r})"

    @property
    def records_dir(self) -> Path:
        return self.root / "records"

    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    # -- the Recorder hook: never raises into the client ----------------------------------------

    def submitted(self, event: Submitted) -> None:
        try:
            self.record_submitted(event)
        except Exception as exc:
            _warn(f"could not record the submission of {event.request_id!r} in {self.root}: {_describe(exc)}")

    def finished(self, event: Finished) -> None:
        try:
            self.record_finished(event)
        except Exception as exc:
            _warn(f"could not record the result of {event.request_id!r} in {self.root}: {_describe(exc)}")

    # -- writing ---------------------------------------------------------------------------------

    def record_submitted(self, event: Submitted) -> RunRecord:
        existing = self.find(event.endpoint, event.request_id, submitted_at=event.submitted_at)
        if existing is not None and existing.state != "submitted":
            return existing  # the result was recorded first; keep it
        record = RunRecord(
            endpoint=event.endpoint,
            request_id=event.request_id,
            state="submitted",
            request=self._store_request(event.request),
            base_url=event.base_url,
            mode=event.mode,
            sync_mode=event.sync_mode,
            via=event.via,
            submitted_at=event.submitted_at,
            cost_estimate=event.cost_estimate,
            cost_amount=event.cost_amount,
        )
        return self.save(record)

    def record_finished(self, event: Finished) -> RunRecord:
        base = self.find(event.endpoint, event.request_id)
        if base is None:  # submitted before history was on, or its record could not be written
            base = RunRecord(endpoint=event.endpoint, request_id=event.request_id, state="submitted")
        images = self._store_images(event.output, event.images, event.thumbnails)
        output = event.output or {}
        record = base.model_copy(
            update={
                "state": event.state,
                "finished_at": event.finished_at,
                "queue_seconds": event.queue_seconds,
                "inference_seconds": event.inference_seconds,
                "error": event.error,
                "error_type": event.error_type,
                "images": images or base.images,
                "output_extra": {k: v for k, v in output.items() if k != "images"},
            }
        )
        return self.save(record)

    def mark_lost(self, record: RunRecord, reason: str) -> RunRecord:
        """Record that an in-flight request's result can no longer be fetched, and why."""
        update = {"state": "lost", "error": reason, "error_type": "lost", "finished_at": time.time()}
        return self.save(record.model_copy(update=update))

    def save(self, record: RunRecord) -> RunRecord:
        """Write ``record`` atomically (scrubbing anything secret-looking on the way)."""
        data = redact(record.model_dump(mode="json", by_alias=True))
        clean = RunRecord.model_validate(data).attached(self)
        key = (clean.endpoint, clean.request_id)
        with self._lock:
            when = clean.submitted_at or clean.finished_at or time.time()
            path = self._paths.get(key) or self.records_dir / _file_name(clean.request_id, when)
            self._paths[key] = path
        atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
        return clean

    # -- reading ---------------------------------------------------------------------------------

    def record_files(self) -> list[Path]:
        """Record files, newest first (names start with the submission time)."""
        if not self.records_dir.is_dir():
            return []
        files = [p for p in self.records_dir.glob("*.json") if not p.name.startswith(".")]
        return sorted(files, key=lambda p: p.name, reverse=True)

    def load(self, path: Path) -> RunRecord:
        """One record file; raises ValueError naming the file when it is not a readable record."""
        try:
            record = RunRecord.model_validate(json.loads(path.read_bytes()))
        except (ValueError, ValidationError) as exc:  # JSONDecodeError and UnicodeDecodeError included
            if isinstance(exc, ValidationError):
                first = exc.errors()[0]
                reason = f"{'.'.join(str(p) for p in first['loc']) or 'record'}: {first['msg']}"
            else:
                reason = str(exc)
            raise ValueError(f"{path} is not a readable run record ({type(exc).__name__}: {reason})") from None
        with self._lock:
            self._paths.setdefault((record.endpoint, record.request_id), path)
        return record.attached(self)

    def __iter__(self) -> Iterator[RunRecord]:
        """Every readable record, newest first; unreadable files are skipped with a HistoryWarning."""
        for path in self.record_files():
            try:
                yield self.load(path)
            except FileNotFoundError:
                continue  # removed while we listed
            except (OSError, ValueError) as exc:
                _warn(f"skipping {exc}")

    def find(self, endpoint: str, request_id: str, *, submitted_at: float | None = None) -> RunRecord | None:
        """The record of one request, or None (``submitted_at`` names its file: no folder scan)."""
        with self._lock:
            known = self._paths.get((endpoint, request_id))
        if known:
            candidates = [known]
        elif submitted_at is not None:
            candidates = [self.records_dir / _file_name(request_id, submitted_at)]
        else:
            candidates = sorted(self.records_dir.glob(f"*-{_safe(request_id)}.json"), reverse=True)
        for path in candidates:
            try:
                record = self.load(path)
            except (OSError, ValueError):
                continue
            if record.endpoint == endpoint and record.request_id == request_id:
                return record
        return None

    def thumbnail(self, image: StoredImage, max_px: int = 160) -> tuple[bytes, str] | None:
        """A cached preview of a stored image: ``(bytes, content_type)``, or None if its file is gone.

        Made from the shared preview saved with the image when there is one (no decoding of the full image).
        """
        if not image.path or not image.sha256:
            return None
        for px in (max_px, THUMBNAIL_PX):
            for content_type in ("image/jpeg", "image/webp"):
                cached = self.thumbs_dir / f"{image.sha256}-{px}.{extension(content_type)}"
                if cached.exists():
                    data = cached.read_bytes()
                    if px == max_px:
                        return data, content_type
                    if px > max_px:
                        return self._save_thumbnail(image.sha256, max_px, _images.thumbnail(data, max_px=max_px))
        source = self.root / image.path
        if not source.exists():
            return None
        return self._save_thumbnail(image.sha256, max_px, _images.thumbnail(source.read_bytes(), max_px=max_px))

    def _save_thumbnail(self, digest: str, max_px: int, thumbnail: tuple[bytes, str]) -> tuple[bytes, str]:
        data, content_type = thumbnail
        try:
            atomic_write(self.thumbs_dir / f"{digest}-{max_px}.{extension(content_type)}", data)
        except OSError:
            pass  # a read-only history still displays
        return data, content_type

    # -- internals -------------------------------------------------------------------------------

    def _store_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """The request scrubbed, its data URIs (input images, masks) moved to files in images/."""

        def externalize(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: externalize(v) for k, v in value.items()}
            if isinstance(value, list):
                return [externalize(v) for v in value]
            if isinstance(value, str) and _images.is_data_uri(value):
                try:
                    data, content_type = _images.decode_data_uri(value)
                except ValueError:
                    return value
                name, _ = store_blob(self.images_dir, data, _images.sniff_mime(data, content_type))
                return f"{FILE_REF}images/{name}"
            return value

        stored: dict[str, Any] = externalize(redact(request))
        return stored

    def _store_images(
        self, output: dict[str, Any] | None, blobs: list[bytes], thumbnails: list[tuple[bytes, str] | None]
    ) -> list[StoredImage]:
        described = [i if isinstance(i, dict) else {} for i in ((output or {}).get("images") or [])]
        stored = []
        for index in range(max(len(described), len(blobs))):
            info = described[index] if index < len(described) else {}
            url = info.get("url") if isinstance(info.get("url"), str) else None
            data = blobs[index] if index < len(blobs) else None
            if data is None and url and _images.is_data_uri(url):  # sync_mode: the image is in the output
                try:
                    data = _images.decode_data_uri(url)[0]
                except ValueError:
                    data = None
            if url and _images.is_data_uri(url):
                url = None  # the bytes are on disk; keep the record small
            if data is None:
                stored.append(
                    StoredImage(
                        url=url,
                        content_type=info.get("content_type"),
                        width=info.get("width"),
                        height=info.get("height"),
                    )
                )
                continue
            content_type = _images.sniff_mime(data, info.get("content_type") or "application/octet-stream")
            name, digest = store_blob(self.images_dir, data, content_type)
            shared = thumbnails[index] if index < len(thumbnails) else None
            if shared is not None:  # the preview the widgets already made: the history never decodes the image
                self._save_thumbnail(digest, THUMBNAIL_PX, shared)
            width, height = info.get("width"), info.get("height")
            if not (isinstance(width, int) and isinstance(height, int)):
                width, height = _pixel_size(data)
            stored.append(
                StoredImage(
                    path=f"images/{name}", sha256=digest, content_type=content_type, width=width, height=height, url=url
                )
            )
        return stored


def _pixel_size(data: bytes) -> tuple[int | None, int | None]:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            width, height = image.size
            return int(width), int(height)
    except (UnidentifiedImageError, OSError):
        return None, None


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _safe(request_id: str) -> str:
    """A file-name-safe form of a request id (ids that needed changing get a hash so they stay unique)."""
    safe = _UNSAFE.sub("_", request_id)[:80]
    if safe != request_id:
        safe += "_" + sha256(request_id.encode()).hexdigest()[:10]
    return safe


def _file_name(request_id: str, when: float) -> str:
    stamp = dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{_safe(request_id)}.json"


def _describe(exc: BaseException) -> str:
    return scrub_text(f"{type(exc).__name__}: {exc}")


def _warn(message: str) -> None:
    warnings.warn(message, HistoryWarning, stacklevel=3)
