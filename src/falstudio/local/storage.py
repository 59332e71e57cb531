"""Uploaded and generated files, on disk under random ids.

A file lives at ``<root>/<id>`` with its metadata in ``<root>/<id>.json``; ids are 32 hex characters
from ``secrets``, and a lookup accepts nothing else, so no request path can reach outside ``root``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

_ID = re.compile(r"^[0-9a-f]{32}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MIME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(;[ -~]*)?$")


def safe_name(name: str | None, default: str = "file.bin") -> str:
    """A file name that is safe in a URL path segment: no directories, no odd characters, <= 100 chars."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    cleaned = _UNSAFE.sub("-", base).strip(".-")[:100]
    return cleaned or default


def safe_content_type(content_type: str | None) -> str:
    """``content_type`` when it is a well-formed media type (it is sent back as a header), else octet-stream."""
    value = (content_type or "").strip()
    return value if len(value) <= 200 and _MIME.match(value) else "application/octet-stream"


@dataclass(frozen=True)
class StoredFile:
    id: str
    name: str
    content_type: str
    size: int

    def url(self, base_url: str) -> str:
        return f"{base_url}/files/{self.id}/{quote(self.name)}"


class Storage:
    """Files by id. ``root=None`` uses a temporary directory removed by :meth:`close`."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self._temporary = root is None
        self.root = Path(tempfile.mkdtemp(prefix="falstudio-files-") if root is None else root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._meta: dict[str, StoredFile] = {}
        self._pending: dict[str, StoredFile] = {}  # upload token -> reserved file (initiate flow)
        self._lock = threading.Lock()

    def put(self, data: bytes, content_type: str, name: str | None = None) -> StoredFile:
        file = StoredFile(secrets.token_hex(16), safe_name(name), safe_content_type(content_type), len(data))
        self._write(file, data)
        return file

    def reserve(self, content_type: str, name: str | None) -> tuple[str, StoredFile]:
        """A file id and a one-time upload token for a later :meth:`fill` (the signed-URL upload flow)."""
        file = StoredFile(secrets.token_hex(16), safe_name(name), safe_content_type(content_type), 0)
        token = secrets.token_hex(16)
        with self._lock:
            self._pending[token] = file
        return token, file

    def fill(self, token: str, data: bytes, content_type: str | None = None) -> StoredFile | None:
        with self._lock:
            reserved = self._pending.pop(token, None)
        if reserved is None:
            return None
        content_type = safe_content_type(content_type) if content_type else reserved.content_type
        file = StoredFile(reserved.id, reserved.name, content_type, len(data))
        self._write(file, data)
        return file

    def get(self, file_id: str) -> StoredFile | None:
        if not _ID.match(file_id):
            return None
        with self._lock:
            cached = self._meta.get(file_id)
        if cached is not None:
            return cached
        meta = self.root / f"{file_id}.json"
        if not meta.is_file():
            return None
        try:
            file = StoredFile(**json.loads(meta.read_text()))
        except (ValueError, TypeError):
            return None
        with self._lock:
            self._meta[file_id] = file
        return file

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

    def close(self) -> None:
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    def _write(self, file: StoredFile, data: bytes) -> None:
        self.path(file).write_bytes(data)
        (self.root / f"{file.id}.json").write_text(json.dumps(asdict(file)))
        with self._lock:
            self._meta[file.id] = file
