"""fal's storage API: CDN tokens, uploads (single and multipart, in the shapes fal-client and @fal-ai/client
use) and file serving."""

from __future__ import annotations

import asyncio
import mimetypes
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from ._http import HTTPException, Routes, backend_of, base_url, json_body, read_body, require_key
from ._multipart import UploadError
from .storage import StoredFile

router = Routes()


def _upload_name(name: str | None, content_type: str) -> str:
    if name:
        return name
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
    return f"upload{extension}"


@router.post("/storage/auth/token")
async def cdn_token(request: Request) -> dict[str, Any]:
    """A short-lived upload token, as ``rest.fal.ai/storage/auth/token?storage_type=fal-cdn-v3`` gives."""
    await require_key(request)
    return {**backend_of(request).issue_token(), "base_url": base_url(request)}


@router.post("/files/upload")
async def upload(request: Request) -> dict[str, str]:
    """The CDN upload: raw bytes in, ``{"access_url"}`` out. Token (``Bearer``) or API key."""
    _token_auth(request)
    backend = backend_of(request)
    data = await read_body(request, backend.settings.max_upload_bytes)
    content_type = request.headers.get("content-type") or "application/octet-stream"
    name = _upload_name(request.headers.get("x-fal-file-name"), content_type)
    stored = backend.storage.put(data, content_type, name)
    return {"access_url": stored.url(base_url(request))}


def _token_auth(request: Request) -> None:
    problem = backend_of(request).upload_auth_problem(request.headers.get("authorization"))
    if problem:
        raise HTTPException(401, problem)


@router.post("/files/upload/multipart")
async def multipart_begin(request: Request) -> dict[str, str]:
    """fal-client's multipart flow (files over 100 MiB): ``{access_url, uploadId}``; parts follow under
    ``{access_url}/multipart/{uploadId}/{n}``, then ``.../complete``."""
    _token_auth(request)
    content_type = request.headers.get("content-type") or "application/octet-stream"
    name = _upload_name(request.headers.get("x-fal-file-name"), content_type)
    upload_id, file = backend_of(request).uploads.begin(content_type, name)
    return {"access_url": file.url(base_url(request)), "uploadId": upload_id}


@router.put("/files/{file_id}/{name}/multipart/{upload_id}/{part}")
async def multipart_part(request: Request, file_id: str, name: str, upload_id: str, part: str) -> JSONResponse:
    _token_auth(request)
    _check_file(request, upload_id, file_id)
    return await _put_part(request, upload_id, part)


@router.post("/files/{file_id}/{name}/multipart/{upload_id}/complete")
async def multipart_complete(request: Request, file_id: str, name: str, upload_id: str) -> dict[str, str]:
    _token_auth(request)
    _check_file(request, upload_id, file_id)
    return {"access_url": (await _complete(request, upload_id)).url(base_url(request))}


@router.post("/storage/upload/initiate-multipart")
async def initiate_multipart(request: Request) -> dict[str, str]:
    """@fal-ai/client's multipart flow: ``{upload_url, file_url}``; parts go to ``{upload_url}/{n}``, then
    ``{upload_url}/complete`` (the upload URL is the capability, as a signed URL is)."""
    await require_key(request)
    content_type, name = await _initiate_fields(request)
    upload_id, file = backend_of(request).uploads.begin(content_type, name)
    base = base_url(request)
    return {"upload_url": f"{base}/storage/upload/multipart/{upload_id}", "file_url": file.url(base)}


@router.put("/storage/upload/multipart/{upload_id}/{part}")
async def initiated_part(request: Request, upload_id: str, part: str) -> JSONResponse:
    return await _put_part(request, upload_id, part)


@router.post("/storage/upload/multipart/{upload_id}/complete")
async def initiated_complete(request: Request, upload_id: str) -> dict[str, str]:
    return {"file_url": (await _complete(request, upload_id)).url(base_url(request))}


def _check_file(request: Request, upload_id: str, file_id: str) -> None:
    file = backend_of(request).uploads.file_of(upload_id)
    if file is None or file.id != file_id:
        raise HTTPException(404, "Upload not found (unknown, completed or expired)")


async def _put_part(request: Request, upload_id: str, part: str) -> JSONResponse:
    backend = backend_of(request)
    if backend.uploads.file_of(upload_id) is None:  # before reading 10 MiB for nothing
        raise HTTPException(404, "Upload not found (unknown, completed or expired)")
    data = await read_body(request, backend.settings.max_upload_bytes)
    try:
        etag = await asyncio.to_thread(backend.uploads.put_part, upload_id, part, data)
    except UploadError as exc:
        raise HTTPException(exc.status, exc.detail) from None
    return JSONResponse({"partNumber": int(part), "etag": etag}, headers={"etag": etag})


async def _complete(request: Request, upload_id: str) -> StoredFile:
    backend = backend_of(request)
    body = await json_body(request, 4 * 1024 * 1024)
    try:
        return await asyncio.to_thread(backend.uploads.complete, upload_id, body)
    except UploadError as exc:
        raise HTTPException(exc.status, exc.detail) from None


async def _initiate_fields(request: Request) -> tuple[str, str]:
    """``(content_type, file_name)`` of an initiate body, 422 naming the field when one is not a string."""
    body = await json_body(request, 64 * 1024)
    if not isinstance(body, dict):
        raise HTTPException(
            422,
            [
                {
                    "loc": ["body"],
                    "msg": "expected an object with content_type and file_name",
                    "type": "model_attributes_type",
                }
            ],
        )
    for field in ("content_type", "file_name"):
        if not isinstance(body.get(field) or "", str):
            problem = {"loc": ["body", field], "msg": f"{field} must be a string", "type": "string_type"}
            raise HTTPException(422, [problem])
    content_type = body.get("content_type") or "application/octet-stream"
    return content_type, _upload_name(body.get("file_name"), content_type)


@router.post("/storage/upload/initiate")
async def initiate(request: Request) -> dict[str, str]:
    """The signed-URL flow: ``{upload_url, file_url}``; the bytes follow with ``PUT upload_url``."""
    await require_key(request)
    token, reserved = backend_of(request).storage.reserve(*await _initiate_fields(request))
    base = base_url(request)
    return {"upload_url": f"{base}/storage/upload/{token}", "file_url": reserved.url(base)}


@router.put("/storage/upload/{token}")
async def upload_signed(request: Request, token: str) -> JSONResponse:
    backend = backend_of(request)
    data = await read_body(request, backend.settings.max_upload_bytes)
    stored = backend.storage.fill(token, data, request.headers.get("content-type"))
    if stored is None:
        raise HTTPException(404, "Upload URL not found or already used")
    return JSONResponse({}, status_code=200)


INLINE_FILE_BYTES = 4 * 1024 * 1024  # files up to this size are served from one read, larger ones streamed
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@router.route("/files/{file_id}", ["GET", "HEAD"])
@router.route("/files/{file_id}/{name:path}", ["GET", "HEAD"])
async def serve_file(request: Request, file_id: str, name: str = "") -> Response:
    """Stored files, like the CDN: no key needed, only ids this server issued resolve."""
    backend = backend_of(request)
    stored = backend.storage.get(file_id)
    path = backend.storage.path(stored) if stored is not None else None
    try:
        size = path.stat().st_size if path is not None else None
        # One read here costs less than FileResponse's thread hops (~1 ms of server CPU per file).
        data = path.read_bytes() if path is not None and size is not None and size <= INLINE_FILE_BYTES else None
    except OSError:
        size = data = None
    if stored is None or path is None or size is None:
        raise HTTPException(404, "File not found")
    headers = {
        "cache-control": "public, max-age=31536000, immutable",
        # A stored file is never a page of this origin: no scripts, no sniffing; what is not an image downloads.
        "content-security-policy": FILE_CSP,
        "x-content-type-options": "nosniff",
        "content-disposition": f"{'inline' if stored.content_type.startswith('image/') else 'attachment'}; "
        f'filename="{stored.name}"',
    }
    if data is not None:
        return Response(data, media_type=stored.content_type, headers=headers)
    return FileResponse(path, media_type=stored.content_type, headers=headers)
