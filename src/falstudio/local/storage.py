"""Uploaded and generated files, on disk under random ids, kept within an age and a size limit.

A file lives at ``<root>/<id>`` with its metadata in ``<root>/<id>.json``; ids are 32 hex characters
from ``secrets``, and a lookup accepts nothing else, so no request path can reach outside ``root``.
Files older than ``max_age`` seconds, and the oldest beyond ``max_bytes`` in total, are removed (like a CDN
that keeps files for a while): a long-running server does not fill the disk.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from . import _tempdirs

_ID = re.compile(r"^[0-9a-f]{32}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MIME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(;[ -~]*)?$")
# Media types kept as given: ones a browser shows or plays but never runs. Anything else (HTML, SVG, XML,
# scripts, PDF...) is stored as application/octet-stream, so a file served from this origin cannot act as a page.
_PASSIVE = re.compile(
    r"^(image/(png|jpeg|webp|gif|avif|bmp|tiff|heic|heif|jxl|x-icon)|audio/[\w.+-]+|video/[\w.+-]+"
    r"|text/plain|text/csv|application/(json|octet-stream|zip|gzip))$"
)
MAX_PENDING = 10_000  # reserved uploads (initiate flow) waiting for their bytes


def safe_name(name: str | None, default: str = "file.bin") -> str:
    """A file name that is safe in a URL path segment: no directories, no odd characters, <= 100 chars."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    cleaned = _UNSAFE.sub("-", base).strip(".-")[:100]
    return cleaned or default


def safe_content_type(content_type: str | None) -> str:
    """``content_type`` when it is a well-formed, passive media type (it is sent back as a header and decides
    what a browser does with the file), else ``application/octet-stream``."""
    value = (content_type or "").strip()
    if len(value) > 200 or not _MIME.match(value):
        return "application/octet-stream"
    return value if _PASSIVE.match(value.split(";")[0].strip().lower()) else "application/octet-stream"


@dataclass(frozen=True)
class StoredFile:
    id: str
    name: str
    content_type: str
    size: int

    def url(self, base_url: str) -> str:
        return f"{base_url}/files/{self.id}/{quote(self.name)}"


class Storage:
    """Files by id. ``root=None`` uses a temporary directory removed by :meth:`close` (and on exit or signals).

    ``max_age`` (seconds) and ``max_bytes`` bound what is kept; :meth:`prune` applies them (every write does).
    """

    def __init__(
        self, root: str | os.PathLike[str] | None = None, *, max_age: float | None = None, max_bytes: int | None = None
    ) -> None:
        self._temporary = root is None
        self.root = _tempdirs.make() if root is None else Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_age = max_age
        self.max_bytes = max_bytes
        self._meta: dict[str, StoredFile] = {}
        self._pending: OrderedDict[str, tuple[StoredFile, float]] = OrderedDict()  # token -> (file, since)
        self._kept: OrderedDict[str, tuple[int, float]] = OrderedDict()  # id -> (size, stored at), oldest first
        self._bytes = 0
        self._lock = threading.Lock()
        self._index_existing()

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._kept)

    def new_file(self, content_type: str, name: str | None, size: int = 0) -> StoredFile:
        return StoredFile(secrets.token_hex(16), safe_name(name), safe_content_type(content_type), size)

    def put(self, data: bytes, content_type: str, name: str | None = None) -> StoredFile:
        file = self.new_file(content_type, name, len(data))
        self.path(file).write_bytes(data)
        self.adopt(file)
        return file

    def adopt(self, file: StoredFile, source: Path | None = None) -> None:
        """Record ``file`` as stored (its bytes moved from ``source``, or already at :meth:`path`)."""
        if source is not None:
            os.replace(source, self.path(file))
        (self.root / f"{file.id}.json").write_text(json.dumps(asdict(file)))
        with self._lock:
            self._meta[file.id] = file
            self._kept[file.id] = (file.size, time.time())
            self._bytes += file.size
        self.prune()

    def reserve(self, content_type: str, name: str | None) -> tuple[str, StoredFile]:
        """A file id and a one-time upload token for a later :meth:`fill` (the signed-URL upload flow)."""
        file = self.new_file(content_type, name)
        token = secrets.token_hex(16)
        with self._lock:
            self._pending[token] = (file, time.time())
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
        return token, file

    def fill(self, token: str, data: bytes, content_type: str | None = None) -> StoredFile | None:
        with self._lock:
            reserved = self._pending.pop(token, None)
        if reserved is None:
            return None
        file = reserved[0]
        content_type = safe_content_type(content_type) if content_type else file.content_type
        stored = StoredFile(file.id, file.name, content_type, len(data))
        self.path(stored).write_bytes(data)
        self.adopt(stored)
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        if not _ID.match(file_id):
            return None
        with self._lock:
            return self._meta.get(file_id)

    def path(self, file: StoredFile) -> Path:
        return self.root / file.id

    def read(self, file_id: str) -> tuple[bytes, StoredFile] | None:
        file = self.get(file_id)
        if file is None:
            return None
        try:
            return self.path(file).read_bytes(), file
        except OSError:
            return None

    def find(self, url: str, own_origins: set[str]) -> StoredFile | None:
        """The stored file a URL points at, when the URL is one of ours (``/files/<id>/...`` on our origin)."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}".lower() not in own_origins:
            return None
        segments = unquote(parts.path).split("/")
        if len(segments) < 3 or segments[1] != "files":
            return None
        return self.get(segments[2])

    def prune(self, now: float | None = None) -> int:
        """Remove files past ``max_age`` and the oldest beyond ``max_bytes`` (never the newest); returns how many."""
        now = time.time() if now is None else now
        doomed = []
        with self._lock:
            while self._kept:
                file_id, (size, stored) = next(iter(self._kept.items()))
                too_old = self.max_age is not None and now - stored > self.max_age
                too_big = self.max_bytes is not None and self._bytes > self.max_bytes and len(self._kept) > 1
                if not (too_old or too_big):
                    break
                del self._kept[file_id]
                self._meta.pop(file_id, None)
                self._bytes -= size
                doomed.append(file_id)
            if self.max_age is not None:
                for token, (_, since) in list(self._pending.items()):
                    if now - since <= self.max_age:
                        break
                    del self._pending[token]
        for file_id in doomed:
            for path in (self.root / file_id, self.root / f"{file_id}.json"):
                path.unlink(missing_ok=True)
        return len(doomed)

    def close(self) -> None:
        if self._temporary:
            _tempdirs.remove(self.root)

    def _index_existing(self) -> None:
        """Files a kept ``storage_dir`` holds from earlier runs, oldest first (an empty folder: nothing)."""
        found = []
        for meta in self.root.glob("*.json"):
            try:
                file = StoredFile(**json.loads(meta.read_text()))
                stored = meta.stat().st_mtime
            except (OSError, ValueError, TypeError):
                continue
            if _ID.match(file.id) and self.path(file).is_file():
                found.append((stored, file))
        for stored, file in sorted(found, key=lambda item: item[0]):
            self._meta[file.id] = file
            self._kept[file.id] = (file.size, stored)
            self._bytes += file.size
        self.prune()
