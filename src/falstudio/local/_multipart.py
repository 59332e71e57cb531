"""Multipart uploads, fal's flow for files over 100 MiB: begin, parts (written to disk as they arrive), complete.

The same sessions serve both shapes of the flow: fal-client's (``/files/upload/multipart``, parts under the
file's URL) and @fal-ai/client's (``/storage/upload/initiate-multipart``, parts under the upload URL).
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .._internal.errors import FalstudioError
from .storage import Storage, StoredFile

MAX_PART_NUMBER = 10_000
MAX_OPEN = 64  # sessions at once; the oldest is dropped beyond it
STALE_SECONDS = 3600.0  # a session not completed within this is dropped


class UploadError(FalstudioError):
    """A multipart request that cannot be served: ``status`` and a fal-shaped ``detail``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass
class _Session:
    file: StoredFile
    started: float = field(default_factory=time.monotonic)
    parts: dict[int, tuple[str, int]] = field(default_factory=dict)  # number -> (etag, size)


class MultipartUploads:
    """Open sessions by upload id; parts live in ``<storage root>/parts`` until the file is complete."""

    def __init__(self, storage: Storage, limit: int) -> None:
        self.storage = storage
        self.limit = limit  # the largest file, in bytes (max_upload_bytes)
        self.folder = storage.root / "parts"
        shutil.rmtree(self.folder, ignore_errors=True)  # parts of an earlier run's sessions, which are gone
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def begin(self, content_type: str, name: str | None) -> tuple[str, StoredFile]:
        """A new session: ``(upload id, the file it will become)``."""
        file = self.storage.new_file(content_type, name)
        upload_id = secrets.token_hex(16)
        with self._lock:
            for stale in [u for u, s in self._sessions.items() if time.monotonic() - s.started > STALE_SECONDS]:
                self._drop(stale)
            while len(self._sessions) >= MAX_OPEN:
                self._drop(next(iter(self._sessions)))
            self._sessions[upload_id] = _Session(file)
        self.folder.mkdir(exist_ok=True)
        return upload_id, file

    def file_of(self, upload_id: str) -> StoredFile | None:
        with self._lock:
            session = self._sessions.get(upload_id)
        return session.file if session else None

    def put_part(self, upload_id: str, number: str, data: bytes) -> str:
        """Store part ``number`` (1-based; sending one again replaces it); returns its ETag. Blocking I/O."""
        session = self._session(upload_id)
        if not number.isdigit() or not 1 <= int(number) <= MAX_PART_NUMBER:
            raise UploadError(400, f"Part numbers are whole numbers from 1 to {MAX_PART_NUMBER}")
        part = int(number)
        with self._lock:
            others = sum(size for n, (_, size) in session.parts.items() if n != part)
        if others + len(data) > self.limit:
            raise UploadError(
                413, f"The file is larger than this local server accepts ({self.limit} bytes, max_upload_bytes)"
            )
        etag = f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
        (self.folder / f"{upload_id}-{part}").write_bytes(data)
        with self._lock:
            session.parts[part] = (etag, len(data))
        return etag

    def complete(self, upload_id: str, body: Any) -> StoredFile:
        """Join the parts listed in ``body`` (``{"parts": [{"partNumber", "etag"}]}``) into the stored file."""
        session = self._session(upload_id)
        listed = body.get("parts") if isinstance(body, dict) else None
        if not isinstance(listed, list) or not listed:
            raise UploadError(422, 'Expected {"parts": [{"partNumber": 1, "etag": "..."}, ...]}')
        numbers: list[int] = []
        for item in listed:
            number = item.get("partNumber") if isinstance(item, dict) else None
            uploaded = session.parts.get(number) if isinstance(number, int) else None
            if not isinstance(number, int) or uploaded is None or item.get("etag") != uploaded[0]:
                raise UploadError(400, f"Part {number!r} was not uploaded, or its etag does not match")
            numbers.append(number)
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            raise UploadError(400, "Parts must be numbered 1, 2, 3... without gaps or repeats")
        joined = self.folder / f"{upload_id}.joined"
        with joined.open("wb") as out:
            for number in sorted(numbers):
                with (self.folder / f"{upload_id}-{number}").open("rb") as part:
                    shutil.copyfileobj(part, out, 1024 * 1024)
        size = sum(session.parts[n][1] for n in numbers)
        file = StoredFile(session.file.id, session.file.name, session.file.content_type, size)
        self.storage.adopt(file, joined)
        with self._lock:
            self._drop(upload_id)
        return file

    def close(self) -> None:
        with self._lock:
            for upload_id in list(self._sessions):
                self._drop(upload_id)

    def _session(self, upload_id: str) -> _Session:
        with self._lock:
            session = self._sessions.get(upload_id)
        if session is None:
            raise UploadError(404, "Upload not found (unknown, completed or expired)")
        return session

    def _drop(self, upload_id: str) -> None:
        """Forget a session and delete its parts (call with the lock held)."""
        session = self._sessions.pop(upload_id, None)
        if session is not None:
            for number in session.parts:
                (self.folder / f"{upload_id}-{number}").unlink(missing_ok=True)
