"""fal's storage protocol: a CDN token then one upload (fal-client 1.x), else initiate + PUT."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import errors
from ._protocol import json_object

if TYPE_CHECKING:
    from ._wire import Wire

MAX_UPLOAD = 100 * 1024 * 1024  # fal's single-request limit; falstudio does not do multipart uploads
_TOKEN_MARGIN = 60.0  # renew a CDN token this many seconds before it expires


class Storage:
    """Uploads for one client; caches its CDN token."""

    def __init__(self, wire: Wire) -> None:
        self._wire = wire
        self._token: tuple[str, str, float] | None = None  # (authorization, upload base url, expires at)

    async def upload(self, data: bytes, content_type: str, file_name: str | None = None) -> str:
        if len(data) > MAX_UPLOAD:
            raise ValueError(f"{len(data)} bytes is over the {MAX_UPLOAD} byte single-upload limit")
        try:
            authorization, base = await self._cdn_token()
        except errors.NotFoundError:
            return await self._initiate_and_put(data, content_type, file_name)
        headers = {"Content-Type": content_type, "Authorization": authorization}
        if file_name:
            headers["X-Fal-File-Name"] = file_name
        response = await self._wire.send("POST", f"{base}/files/upload", endpoint=None, content=data, headers=headers)
        return str(json_object(response, None)["access_url"])

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
        response = await self._wire.send(
            "POST",
            f"{self._wire.target.hosts.rest}/storage/upload/initiate",
            endpoint=None,
            params={"storage_type": "fal-cdn-v3"},
            json={"content_type": content_type, "file_name": file_name or "upload.bin"},
        )
        body = json_object(response, None)
        await self._wire.send(
            "PUT", str(body["upload_url"]), endpoint=None, content=data, headers={"Content-Type": content_type}
        )
        return str(body["file_url"])


def _expiry(value: Any) -> float:
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)).timestamp()
        except ValueError:
            pass
    return time.time() + 600
