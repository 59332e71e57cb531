"""fal's storage protocol: a CDN token then one upload (fal-client 1.x), else initiate + PUT; files over
100 MiB in 10 MiB parts (fal's multipart flow, in either shape)."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import time
from collections.abc import Awaitable, Callable
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


class Storage:
    """Uploads for one client; caches its CDN token."""

    def __init__(self, wire: Wire) -> None:
        self._wire = wire
        self._token: tuple[str, str, float] | None = None  # (authorization, upload base url, expires at)

    async def upload(self, data: bytes, content_type: str, file_name: str | None = None) -> str:
        multipart = len(data) > MULTIPART_THRESHOLD
        try:
            authorization, base = await self._cdn_token()
        except errors.NotFoundError:  # an older storage API: the signed-URL flow
            if multipart:
                return await self._initiated_multipart(data, content_type, file_name)
            return await self._initiate_and_put(data, content_type, file_name)
        headers = {"Content-Type": content_type, "Authorization": authorization}
        if file_name:
            headers["X-Fal-File-Name"] = file_name
        if multipart:
            return await self._cdn_multipart(data, headers, base)
        response = await self._wire.send("POST", f"{base}/files/upload", endpoint=None, content=data, headers=headers)
        return str(json_object(response, None)["access_url"])

    async def upload_file(self, path: str | os.PathLike[str]) -> str:
        file = Path(path)
        data = await asyncio.to_thread(file.read_bytes)
        guessed = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return await self.upload(data, _images.sniff_mime(data, guessed), file.name)

    async def upload_image(self, image: PILImage.Image, format: str = "png") -> str:
        fmt = format.lower().replace("jpg", "jpeg")
        return await self.upload(_images.image_bytes(image, fmt), f"image/{fmt}", f"image.{fmt}")

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

    async def _initiate_and_put(self, data: bytes, content_type: str, file_name: str | None) -> str:
        body = await self._initiate("initiate", content_type, file_name)
        await self._wire.send(
            "PUT", str(body["upload_url"]), endpoint=None, content=data, headers={"Content-Type": content_type}
        )
        return str(body["file_url"])

    async def _initiate(self, kind: str, content_type: str, file_name: str | None) -> dict[str, Any]:
        response = await self._wire.send(
            "POST",
            f"{self._wire.target.hosts.rest}/storage/upload/{kind}",
            endpoint=None,
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

    async def _initiated_multipart(self, data: bytes, content_type: str, file_name: str | None) -> str:
        """@fal-ai/client's shape: parts under the (signed) upload URL, each answered with its ETag in JSON."""
        body = await self._initiate("initiate-multipart", content_type, file_name)
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
