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
import itertools
import json
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from falstudio._internal.redact import redact, scrub_text
from falstudio._internal.regular_files import read_regular_info
from falstudio.client.recorder import SETTLE, Finished, Sending, Submitted, Unanswered

from .._internal.errors import FalstudioWarning
from ._files import (
    atomic_write,
    intent_name,
    record_file_name,
    safe_name,
    sync_file,
)
from ._media import IMAGES, THUMBS, store_images, store_request, thumbnail, too_large
from ._paths import history_dir
from ._record import MAX_DEPTH, SHALLOW, RunRecord, StoredImage

# A record is a few KB (input images live in images/); anything far larger is not one falstudio wrote.
MAX_RECORD_BYTES = 16 * 1024 * 1024
_WARNED: set[Path] = set()
_PARSED: dict[str, tuple[tuple[int, int, int], RunRecord]] = {}  # path -> (inode, mtime, size), its record
_PARSED_MAX = 100_000
_WARNED_LOCK = threading.Lock()


class HistoryWarning(FalstudioWarning, UserWarning):
    """A record that could not be read or written; the rest of the history is unaffected."""


class HistoryStore:
    """Run records in one folder; implements the client's ``Recorder`` hook.

    ``path`` defaults to ``$FALSTUDIO_HISTORY_DIR``, else the per-user data folder. Nothing is created on
    disk until the first record is written.
    """

    thread_safe = True  # the client may record several requests at once: each record has its own file

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.root = history_dir(path)
        self._paths: dict[tuple[str, str], str | Path] = {}  # a str for the files a read found (no Path each)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.root)!r})"

    @property
    def records_dir(self) -> Path:
        return self.root / "records"

    @property
    def images_dir(self) -> Path:
        return self.root / IMAGES

    @property
    def thumbs_dir(self) -> Path:
        return self.root / THUMBS

    # -- the Recorder hook: never raises into the client ----------------------------------------

    def submitted(self, event: Submitted) -> None:
        self._quietly(self.record_submitted, event, f"the submission of {event.request_id!r}")

    def finished(self, event: Finished) -> None:
        self._quietly(self.record_finished, event, f"the result of {event.request_id!r}")

    def sending(self, event: Sending) -> None:
        self._quietly(self.record_sending, event, f"a request to {event.endpoint}")

    def unanswered(self, event: Unanswered) -> None:
        self._quietly(self.record_unanswered, event, f"what became of a request to {event.endpoint}")

    def _quietly(self, write: Callable[[Any], object], event: object, what: str) -> None:
        try:
            write(event)
        except Exception as exc:
            _warn(f"could not record {what} in {self.root}: {_describe(exc)}", stacklevel=4)

    # -- writing ---------------------------------------------------------------------------------

    def record_sending(self, event: Sending) -> RunRecord:
        """The record of a request about to be sent: in flight, no request id yet (``unconfirmed``).

        Called on the client's loop, just before the request leaves: written at once (a process killed from now on
        leaves it whole), put on disk on the settle thread, with any input image it moved to a file.
        """
        unsynced: list[Path] = []
        record = RunRecord(
            endpoint=event.endpoint,
            state="submitting",
            request=store_request(self.root, event.request, unsynced=unsynced),
            base_url=event.base_url,
            mode=event.mode,
            sync_mode=event.sync_mode,
            via=event.via,
            submitted_at=event.sent_at,
            cost_estimate=event.cost_estimate,
            cost_amount=event.cost_amount,
            intent_id=event.intent_id,
            writer=event.writer,
        )
        saved = self.save(record, sync=False)
        with self._lock:
            unsynced.append(Path(self._paths[_key(saved)]))
        SETTLE.submit(lambda: self._quietly(_synced, unsynced, f"a request to {event.endpoint}"))
        return saved

    def record_unanswered(self, event: Unanswered) -> RunRecord | None:
        """A request that got no usable reply: forgotten if it certainly never ran, else ``lost`` with why."""
        intent = self.find_intent(event.intent_id)
        if intent is None:
            return None
        if event.cancelled:
            update = {"state": "cancelled", "error": event.reason, "error_type": "request_cancelled"}
            return self.save(intent.model_copy(update={**update, "finished_at": time.time()}))
        if not event.may_have_run:
            self.forget_intent(event.intent_id)
            return None
        return self.mark_lost(intent, unconfirmed_reason(intent, event.reason), error_type="unconfirmed")

    def record_submitted(self, event: Submitted) -> RunRecord:
        intent = self.find_intent(event.intent_id) if event.intent_id else None
        existing = self.find(event.endpoint, event.request_id, submitted_at=event.submitted_at)
        if existing is not None and not existing.in_flight:
            if event.intent_id:
                self.forget_intent(event.intent_id)
            return existing  # the result was recorded first; keep it
        record = RunRecord(
            endpoint=event.endpoint,
            request_id=event.request_id,
            state="queued",
            request=intent.stored_request if intent else store_request(self.root, event.request),
            base_url=event.base_url,
            mode=event.mode,
            sync_mode=event.sync_mode,
            via=event.via,
            submitted_at=intent.submitted_at if intent else event.submitted_at,
            cost_estimate=event.cost_estimate,
            cost_amount=event.cost_amount,
            billed_units=event.billed_units,
            billed_unit=event.billed_unit,
            intent_id=event.intent_id,
            writer=intent.writer if intent else None,
        )
        if intent is None or not event.intent_id:
            return self.save(record)
        # The early record is on disk already and stands for this one until it is too: the request id is written
        # at once (a killed process leaves it whole), synced to disk after, and only then does the early one go.
        saved = self.save(record, sync=False)
        with self._lock:
            path = Path(self._paths[_key(saved)])
        intent_id = event.intent_id
        SETTLE.submit(lambda: self._quietly(self._settle, (path, intent_id), f"the submission of {saved.request_id!r}"))
        return saved

    def _settle(self, written: tuple[Path, str]) -> None:
        """Sync a request id's record to disk, then remove the early record it completes."""
        path, intent_id = written
        try:
            sync_file(path)
        except FileNotFoundError:
            pass  # replaced (by its result, written synced) or removed meanwhile
        self.forget_intent(intent_id)

    def settle_twin(self, record: RunRecord) -> None:
        """Finish what a process killed before its settle thread ran left: ``record`` (with its request id) synced,
        and the early record it completes, if a read of this folder saw it, removed."""
        if record.request_id is None or not record.intent_id:
            return
        with self._lock:
            early = self._paths.get(("", intent_name(record.intent_id)))
            known = self._paths.get(_key(record))
        if early and known:
            self._quietly(self._settle, (Path(known), record.intent_id), f"the submission of {record.request_id!r}")

    def record_finished(self, event: Finished) -> RunRecord:
        """How a request ended, in its request id's record; with ``event.intent_id`` (that record was never
        written: the request ended soon after it was sent) in the early record's place, which goes once this one is
        on disk."""
        base = self.find(event.endpoint, event.request_id)
        early = self.find_intent(event.intent_id) if base is None else None
        if early is not None:
            base = early.model_copy(update={"request_id": event.request_id, "state": "queued"})
        if base is None:  # submitted before history was on, or its record could not be written
            base = RunRecord(endpoint=event.endpoint, request_id=event.request_id, state="queued")
        images = store_images(self.root, event.output, event.images, event.thumbnails)
        output = event.output or {}
        oversized = too_large(images) if event.error is None else None
        record = base.model_copy(
            update={
                "state": event.state,
                "finished_at": event.finished_at,
                "queue_seconds": event.queue_seconds,
                "inference_seconds": event.inference_seconds,
                "error": oversized or event.error,
                "error_type": "image_too_large" if oversized else event.error_type,
                "images": images or base.images,
                "output_extra": {k: v for k, v in output.items() if k != "images"},
                **_spend_update(base, event),
            }
        )
        saved = self.save(record)
        if early is not None and event.intent_id:
            self.forget_intent(event.intent_id)
        return saved

    def mark_lost(self, record: RunRecord, reason: str, *, error_type: str = "lost") -> RunRecord:
        """Record that an in-flight request's result can no longer be fetched, and why."""
        update = {"state": "lost", "error": reason, "error_type": error_type, "finished_at": time.time()}
        return self.save(record.model_copy(update=update))

    def save(self, record: RunRecord, *, sync: bool = True) -> RunRecord:
        """Write ``record`` atomically (scrubbing anything secret-looking on the way); ``sync``: on disk before this
        returns (else see :func:`._files.atomic_write`)."""
        dumped = record.model_dump(mode="json", by_alias=True)
        data = redact(dumped)
        clean = (record if data == dumped else RunRecord.model_validate(data)).attached(self)
        key = _key(clean)
        with self._lock:
            when = clean.submitted_at or clean.finished_at or time.time()
            known = self._paths.get(key)
            path = Path(known) if known else self.records_dir / record_file_name(key[1], when)
            self._paths[key] = path
        info = atomic_write(path, json.dumps(data, ensure_ascii=False).encode("utf-8"), sync=sync)
        self._remember(os.fspath(path), info, clean)  # read back by the next event of the request: not parsed
        return clean

    def find_intent(self, intent_id: str | None) -> RunRecord | None:
        """The record written before sending (still without a request id), or None."""
        if not intent_id:
            return None
        key = ("", intent_name(intent_id))
        with self._lock:
            known = self._paths.get(key)
        candidates = [known] if known else sorted(self.records_dir.glob(f"*-{safe_name(key[1])}.json"))
        for path in candidates:
            try:
                record = self.load(path)
            except (OSError, ValueError):
                continue
            if record.intent_id == intent_id and record.request_id is None:
                return record
        return None

    def forget_intent(self, intent_id: str) -> None:
        """Remove the record written before sending as ``intent_id`` (its request id's record stands for it)."""
        key = ("", intent_name(intent_id))
        with self._lock:
            path = self._paths.pop(key, None)
        for candidate in [Path(path)] if path else self.records_dir.glob(f"*-{safe_name(key[1])}.json"):
            candidate.unlink(missing_ok=True)

    # -- reading ---------------------------------------------------------------------------------

    def record_names(self) -> list[str]:
        """The names of the record files, newest first (names start with the submission time)."""
        try:
            names = [n for n in os.listdir(self.records_dir) if n.endswith(".json") and not n.startswith(".")]
        except (FileNotFoundError, NotADirectoryError):
            return []
        names.sort(reverse=True)
        return names

    def record_files(self) -> list[Path]:
        """Record files, newest first (names start with the submission time)."""
        folder = self.records_dir
        return [folder / name for name in self.record_names()]

    def load(self, path: str | os.PathLike[str]) -> RunRecord:
        """One record file; raises ValueError naming the file when it is not a readable record.

        Only a regular file of at most :data:`MAX_RECORD_BYTES` is read (never a FIFO, a device or a folder).
        A file read before and unchanged since (same inode, size and modification time) is not parsed again.
        """
        name = os.fspath(path)
        known = _PARSED.get(name)
        record = known[1] if known is not None and known[0] == _identity(os.stat(name)) else None
        if record is None:
            record, info = _read(name)
            self._remember(name, info, record)
        with self._lock:
            self._paths.setdefault(_key(record), name)
        return record.attached(self)

    def _remember(self, name: str, info: os.stat_result, record: RunRecord) -> None:
        with self._lock:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[name] = (_identity(info), record)

    def __iter__(self) -> Iterator[RunRecord]:
        """Every readable record, newest first; unreadable files are skipped with a HistoryWarning.

        A record written before sending whose completed twin also exists (the process was killed between
        writing one and removing the other; both carry the same time) is left out.
        """
        return (record for _, record in self.named_records(self.record_names()))

    def named_records(self, names: Iterable[str]) -> Iterator[tuple[str, RunRecord]]:
        """``(file path, record)`` of the readable files among ``names`` (record file names, newest first),
        leaving out an early record whose completed twin is among them (see :meth:`__iter__`)."""
        folder = os.fspath(self.records_dir)
        for _, same_time in itertools.groupby(names, key=lambda n: n.partition("-")[0]):
            paths = [os.path.join(folder, name) for name in same_time]
            read = [(path, record) for path in paths for record in self._readable([path])]
            answered = {r.intent_id for _, r in read if r.intent_id and r.request_id is not None}
            yield from ((p, r) for p, r in read if r.request_id is not None or r.intent_id not in answered)

    def readable(self, paths: Iterable[Path]) -> Iterator[RunRecord]:
        """The records of ``paths`` that read; an unreadable file is skipped with one HistoryWarning naming it."""
        return self._readable(paths)

    def _readable(self, paths: Iterable[str | Path]) -> Iterator[RunRecord]:
        for path in paths:
            try:
                yield self.load(path)
            except FileNotFoundError:
                continue  # removed while we listed
            except (OSError, ValueError) as exc:
                self._warn_once(Path(path), f"skipping {exc}")

    def _warn_once(self, path: Path, message: str) -> None:
        """One HistoryWarning per unreadable file and process (a folder read again does not repeat it)."""
        with _WARNED_LOCK:
            if path in _WARNED:
                return
            _WARNED.add(path)
        _warn(message, stacklevel=5)

    def find(self, endpoint: str, request_id: str, *, submitted_at: float | None = None) -> RunRecord | None:
        """The record of one request, or None (``submitted_at`` names its file: no folder scan)."""
        with self._lock:
            known = self._paths.get((endpoint, request_id))
        if known:
            candidates = [known]
        elif submitted_at is not None:
            candidates = [self.records_dir / record_file_name(request_id, submitted_at)]
        else:
            candidates = sorted(self.records_dir.glob(f"*-{safe_name(request_id)}.json"), reverse=True)
        for path in candidates:
            try:
                record = self.load(path)
            except (OSError, ValueError):
                continue
            if record.endpoint == endpoint and record.request_id == request_id:
                return record
        return None

    def spend_entries(self) -> list[tuple[str, str, Decimal, float]]:
        """For a client's budget (seeding the folder's spend journal): each request that counts as spent."""
        from ._spend import spend_entries

        return spend_entries(self)

    def thumbnail(self, image: StoredImage, max_px: int = 160) -> tuple[bytes, str] | None:
        """A cached preview of a stored image: ``(bytes, content_type)``, or None if its file is gone.

        Made from the shared preview saved with the image when there is one (no decoding of the full image).
        """
        return thumbnail(self.root, image, max_px)


def _synced(paths: list[Path]) -> None:
    """Put files written unsynced on disk (one replaced or removed meanwhile is skipped)."""
    for path in paths:
        try:
            sync_file(path)
        except FileNotFoundError:
            pass


def _identity(info: os.stat_result) -> tuple[int, int, int]:
    """What tells a file unchanged since it was parsed: its inode, modification time and size."""
    return info.st_ino, info.st_mtime_ns, info.st_size


def _read(path: str) -> tuple[RunRecord, os.stat_result]:
    """The record in a file and the file's identity; ValueError naming the file and what is wrong.

    Only text with enough brackets to nest too deeply is parsed in Python first (to say so clearly); the rest
    goes straight to pydantic's JSON parser.
    """
    try:
        data, info = read_regular_info(path, MAX_RECORD_BYTES)
        if data.count(b"[") + data.count(b"{") < MAX_DEPTH:
            return RunRecord.model_validate_json(data, context={SHALLOW: True}), info
        return RunRecord.model_validate(json.loads(data)), info
    except (ValueError, ValidationError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError too
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            reason = f"{'.'.join(str(p) for p in first['loc']) or 'record'}: {first['msg']}"
        elif isinstance(exc, RecursionError):
            reason = "its JSON is nested too deeply"
        else:
            reason = str(exc)
        raise ValueError(f"{path} is not a readable run record ({type(exc).__name__}: {reason})") from None


def _spend_update(base: RunRecord, event: Finished) -> dict[str, Any]:
    """The estimate if the submission did not record one; fal's billed figure when this reply carried it."""
    update: dict[str, Any] = {}
    if base.cost_amount is None and event.cost_amount is not None:
        update.update(cost_estimate=event.cost_estimate, cost_amount=event.cost_amount)
    if event.billed_units is not None:
        update.update(billed_units=event.billed_units, billed_unit=event.billed_unit)
    return update


def _key(record: RunRecord) -> tuple[str, str]:
    """Which file a record lives in: its endpoint and request id, or (before the reply) its intent."""
    if record.request_id is None:
        return "", intent_name(record.intent_id or "unknown")
    return record.endpoint, record.request_id


def unconfirmed_reason(record: RunRecord, why: str) -> str:
    """What to say about a request that may have reached the server but whose request id never came back."""
    when = dt.datetime.fromtimestamp(record.submitted_at or time.time()).strftime("%Y-%m-%d %H:%M:%S")
    where = "fal.ai/dashboard" if record.mode == "fal" else f"the server at {record.base_url}"
    return f"may have been submitted at {when} ({why}); not resumable without a request id: look for it on {where}"


def _describe(exc: BaseException) -> str:
    return scrub_text(f"{type(exc).__name__}: {exc}")


def _warn(message: str, stacklevel: int = 3) -> None:
    warnings.warn(message, HistoryWarning, stacklevel=stacklevel)
