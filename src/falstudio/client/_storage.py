"""fal's storage protocol: a CDN token then one upload (fal-client 1.x), else initiate + PUT; files over
100 MiB in 10 MiB parts (fal's multipart flow, in either shape)."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .._internal import images as _images
from . import errors
from ._protocol import json_object

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from ._wire import Wire

MULTIPART_THRESHOLD = 100 * 1024 * 1024  # fal's single-request limit: larger files go in parts
PART_BYTES = 10 * 1024 * 1024
PARTS_AT_ONCE = 4  # parts in flight together (each is a 10 MiB copy while it is sent)
_TOKEN_MARGIN = 60.0  # renew a CDN token this many seconds before it expires
# fal-client's named lifetimes for uploads ("immediate" is a minute: fal's storage reads 0 as "never")
EXPIRIES: dict[str, int | None] = {
    "never": None,
    "immediate": 60,
    "1h": 3600,
    "1d": 86400,
    "7d": 604800,
    "30d": 2592000,
    "1y": 31536000,
}


@dataclass(frozen=True)
class StorageSettings:
    """How long fal keeps an upload and who may read it: fal-client's ``StorageSettings`` (its instances are
    accepted as they are). ``expires_in``: ``"never"``, ``"immediate"``, ``"1h"``, ``"1d"``, ``"7d"``,
    ``"30d"``, ``"1y"`` or whole seconds; ``initial_acl``: ``{"default": "hide"|"forbid"|"allow",
    "rules": [{"user": ..., "decision": ...}]}`` (or fal-client's ``StorageACL``)."""

    expires_in: str | int | None = None
    initial_acl: Any = None

    def __post_init__(self) -> None:
        lifecycle_header(self)  # bad values fail here


def lifecycle_header(lifecycle: Any) -> dict[str, str]:
    """The ``X-Fal-Object-Lifecycle(-Preference)`` headers for ``lifecycle`` (None: none), as fal-client sends."""
    if lifecycle is None:
        return {}
    payload: dict[str, Any] = {}
    expires = getattr(lifecycle, "expires_in", None)
    if expires is not None:
        if isinstance(expires, bool) or not isinstance(expires, (int, str)):
            raise ValueError(f"expires_in must be one of {', '.join(EXPIRIES)} or whole seconds, not {expires!r}")
        if isinstance(expires, int) and expires <= 0:
            raise ValueError(f"expires_in in seconds must be > 0, got {expires}")
        if isinstance(expires, str) and expires not in EXPIRIES:
            raise ValueError(f"expires_in must be one of {', '.join(EXPIRIES)} or whole seconds, not {expires!r}")
        seconds = expires if isinstance(expires, int) else EXPIRIES[expires]
        if seconds is not None:
            payload["expiration_duration_seconds"] = seconds
    acl = getattr(lifecycle, "initial_acl", None)
    if acl is not None:
        default = acl.get("default") if isinstance(acl, dict) else getattr(acl, "default", None)
        rules = acl.get("rules") if isinstance(acl, dict) else getattr(acl, "rules", None)
        body: dict[str, Any] = {"default": default} if default is not None else {}
        if rules:
            body["rules"] = [
                {"user": r["user"], "decision": r["decision"]}
                if isinstance(r, dict)
                else {"user": r.user, "decision": r.decision}
                for r in rules
            ]
        if body:
            payload["initial_acl"] = body
    if not payload:
        return {}
    value = json.dumps(payload)
    return {"X-Fal-Object-Lifecycle": value, "X-Fal-Object-Lifecycle-Preference": value}


class Storage:
    """Uploads for one client; caches its CDN token."""

    def __init__(self, wire: Wire) -> None:
        self._wire = wire
        self._token: tuple[str, str, float] | None = None  # (authorization, upload base url, expires at)

    async def upload(
        self, data: bytes, content_type: str, file_name: str | None = None, *, lifecycle: Any = None
    ) -> str:
        """Store ``data``; ``lifecycle`` (:class:`StorageSettings`) sets how long fal keeps it, as in fal-client."""
        kept = lifecycle_header(lifecycle)
        multipart = len(data) > MULTIPART_THRESHOLD
        try:
            authorization, base = await self._cdn_token()
        except errors.NotFoundError:  # an older storage API: the signed-URL flow
            if multipart:
                return await self._initiated_multipart(data, content_type, file_name, kept)
            return await self._initiate_and_put(data, content_type, file_name, kept)
        headers = {"Content-Type": content_type, "Authorization": authorization, **kept}
        if file_name:
            headers["X-Fal-File-Name"] = file_name
        if multipart:
            return await self._cdn_multipart(data, headers, base)
        response = await self._wire.send("POST", f"{base}/files/upload", endpoint=None, content=data, headers=headers)
        return str(json_object(response, None)["access_url"])

    async def upload_file(self, path: str | os.PathLike[str], *, lifecycle: Any = None) -> str:
        file = Path(path)
        data = await asyncio.to_thread(file.read_bytes)
        guessed = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return await self.upload(data, _images.sniff_mime(data, guessed), file.name, lifecycle=lifecycle)

    async def upload_image(self, image: PILImage.Image, format: str = "jpeg", *, lifecycle: Any = None) -> str:
        fmt = format.lower().replace("jpg", "jpeg")
        data = _images.image_bytes(image, fmt)
        return await self.upload(data, f"image/{fmt}", f"image.{fmt}", lifecycle=lifecycle)

    async def _cdn_token(self) -> tuple[str, str]:
        token = self._token
        if token is None or token[2] < time.time() + _TOKEN_MARGIN:
            hosts = self._wire.target.hosts
            response = await self._wire.send(
                "POST",
                f"{hosts.rest}/storage/auth/token",
                endpoint=None,
                params={"storage_type": "fal-cdn-v3"},
                json={},
            )
            body = json_object(response, None)
            base = str(body.get("base_url") or hosts.cdn).rstrip("/")
            token = (f"{body.get('token_type', 'Bearer')} {body['token']}", base, _expiry(body.get("expires_at")))
            self._token = token
        return token[0], token[1]

    async def _initiate_and_put(
        self, data: bytes, content_type: str, file_name: str | None, kept: dict[str, str]
    ) -> str:
        body = await self._initiate("initiate", content_type, file_name, kept)
        await self._wire.send(
            "PUT", str(body["upload_url"]), endpoint=None, content=data, headers={"Content-Type": content_type}
        )
        return str(body["file_url"])

    async def _initiate(
        self, kind: str, content_type: str, file_name: str | None, kept: dict[str, str]
    ) -> dict[str, Any]:
        response = await self._wire.send(
            "POST",
            f"{self._wire.target.hosts.rest}/storage/upload/{kind}",
            endpoint=None,
            headers=kept,
            params={"storage_type": "fal-cdn-v3"},
            json={"content_type": content_type, "file_name": file_name or "upload.bin"},
        )
        return json_object(response, None)

    async def _cdn_multipart(self, data: bytes, headers: dict[str, str], base: str) -> str:
        """fal-client's shape: parts under the file's URL, each acknowledged by an ETag header."""
        response = await self._wire.send(
            "POST", f"{base}/files/upload/multipart", endpoint=None, headers={**headers, "Accept": "application/json"}
        )
        created = json_object(response, None)
        access_url, upload_id = str(created["access_url"]), str(created["uploadId"])
        part_headers = {
            "Authorization": headers["Authorization"],
            "Content-Type": headers["Content-Type"],
            "Accept-Encoding": "identity",  # keeps the ETag header intact
        }

        async def put(number: int, chunk: bytes) -> str:
            url = f"{access_url}/multipart/{upload_id}/{number}"
            reply = await self._wire.send("PUT", url, endpoint=None, content=chunk, headers=part_headers)
            return _etag(reply.headers.get("etag"), number)

        parts = await _in_parts(data, put)
        await self._wire.send(
            "POST",
            f"{access_url}/multipart/{upload_id}/complete",
            endpoint=None,
            headers={"Authorization": headers["Authorization"]},
            json={"parts": parts},
        )
        return access_url

    async def _initiated_multipart(
        self, data: bytes, content_type: str, file_name: str | None, kept: dict[str, str]
    ) -> str:
        """@fal-ai/client's shape: parts under the (signed) upload URL, each answered with its ETag in JSON."""
        body = await self._initiate("initiate-multipart", content_type, file_name, kept)
        upload = urlsplit(str(body["upload_url"]))

        def at(suffix: str) -> str:
            return urlunsplit(upload._replace(path=f"{upload.path.rstrip('/')}/{suffix}"))

        async def put(number: int, chunk: bytes) -> str:
            reply = await self._wire.send(
                "PUT", at(str(number)), endpoint=None, content=chunk, headers={"Content-Type": content_type}
            )
            answer = json_object(reply, None)
            return _etag(answer.get("etag") or reply.headers.get("etag"), number)

        await self._wire.send("POST", at("complete"), endpoint=None, json={"parts": await _in_parts(data, put)})
        return str(body["file_url"])


async def _in_parts(data: bytes, put: Callable[[int, bytes], Awaitable[str]]) -> list[dict[str, Any]]:
    """``put(number, chunk)`` for each 10 MiB part, a few at a time; ``[{"partNumber", "etag"}]`` in order."""
    slots = asyncio.Semaphore(PARTS_AT_ONCE)
    view = memoryview(data)

    async def one(number: int) -> dict[str, Any]:
        async with slots:
            start = (number - 1) * PART_BYTES
            return {"partNumber": number, "etag": await put(number, bytes(view[start : start + PART_BYTES]))}

    count = -(-len(data) // PART_BYTES)
    tasks = [asyncio.ensure_future(one(n)) for n in range(1, count + 1)]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:  # one part failed (or we were cancelled): stop the others
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _etag(value: Any, number: int) -> str:
    if not isinstance(value, str) or not value:
        raise errors.ServerError(f"the storage server did not acknowledge part {number} of a multipart upload")
    return value


def _expiry(value: Any) -> float:
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
        except ValueError:
            pass
    return time.time() + 600
