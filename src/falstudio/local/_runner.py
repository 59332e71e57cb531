"""Running one job: simulated model latency, input images, the engine in a thread, stored outputs."""

from __future__ import annotations

import asyncio
import base64
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from falstudio import endpoints
from falstudio._internal.images import MAX_PIXELS, ImageTooLarge, decode_data_uri, open_image, to_data_uri

from .._internal.capped import Cap
from .._internal.errors import FalstudioError
from . import engines
from ._loaded import Mapped, for_engines, output
from .jobs import Job, JobCancelled

if TYPE_CHECKING:
    import httpx

    from ._backend import Backend

# Seconds a real GPT Image request takes, roughly, by quality (fal queue timings) for a megapixel image;
# ``auto`` behaves as medium. Bigger images take longer, less than in proportion (1536x1024: x1.3; 4K: x3.8).
BASE_SECONDS = {"low": 1.0, "medium": 2.5, "auto": 2.5, "high": 5.0}
PIXELS_EXPONENT = 0.65
_MEGAPIXEL = 1024 * 1024
MAX_INPUT_PIXELS = MAX_PIXELS  # larger input images are refused as image_too_large, before decoding
MASK_FIELDS = ("mask_url", "mask_image_url")  # GPT Image 2's name, GPT Image 1.5's


def simulated_seconds(request: Any, kind: str) -> float:
    """How long the model would take for ``request``, before the server's latency multiplier."""
    seconds = BASE_SECONDS.get(str(getattr(request, "quality", "auto")), 2.5)
    width, height = endpoints.sizes.dimensions(getattr(request, "image_size", "auto")) or (1024, 1024)
    seconds *= float((width * height / _MEGAPIXEL) ** PIXELS_EXPONENT)
    seconds *= 1 + 0.4 * (int(getattr(request, "num_images", 1)) - 1)
    if kind == "image-edit":
        seconds *= 1.1
    return seconds


class InputError(FalstudioError):
    """An input image that cannot be used; becomes a 422 with fal's error ``type``."""

    def __init__(self, loc: list[str | int], message: str, error_type: str) -> None:
        super().__init__(message)
        self.loc, self.message, self.error_type = loc, message, error_type


class _LogLines:
    """The engine's log callback: keeps each line with its progress (0..1) and stops the engine on cancel.

    The engine runs at full speed and the lines are released on the simulated schedule afterwards, so many
    jobs started together do their CPU work early instead of all at the end of their simulated time.
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self.lines: list[tuple[str, float]] = []
        self.partials: list[tuple[float, dict[str, Any]]] = []  # (progress, stream event) of a streamed run

    def __call__(self, message: str, progress: float, /) -> None:
        if self.job.cancelled_flag.is_set():
            raise JobCancelled
        self.lines.append((message, progress))


def _at(entry: tuple[float, str | None, dict[str, Any] | None]) -> float:
    return entry[0]


def _partial_events(final: bytes, quality: str) -> list[tuple[float, dict[str, Any]]]:
    """The partial-image events of a streamed run, each with the share of the run time at which it is sent:
    two for low quality, three otherwise, spread over the run."""
    count = 2 if quality == "low" else 3
    events = []
    for index, image in enumerate(engines.partial_images(final, count)):
        payload = {
            "b64_json": base64.b64encode(image.data).decode("ascii"),
            "partial_index": index,
            "content_type": image.content_type,
            "width": image.width,
            "height": image.height,
        }
        events.append(((index + 1) / (count + 1), {"type": "image.partial", "image": payload}))
    return events


@dataclass
class _Inputs:
    images: list[Image.Image]
    mask: Image.Image | None


class Runner:
    """Executes jobs for the queue. Engine work runs on a dedicated thread pool, never on the loop."""

    def __init__(self, backend: Backend, executor: ThreadPoolExecutor) -> None:
        self.backend = backend
        self.executor = executor

    async def __call__(self, job: Job) -> None:
        settings = self.backend.settings
        if settings.faults.slow_start > 0:
            await asyncio.sleep(settings.faults.slow_start)
        await settings.faults.gate("start")
        spec = endpoints.get(job.endpoint_id)  # registered, or loaded before the job was queued
        job.start()
        mapped = for_engines(spec, job.request)
        total = simulated_seconds(mapped.request, spec.kind) * max(settings.latency, 0.0)
        job.log(f"Running {job.endpoint_id} on the offline engine (simulated model time {total:.1f} s)")
        for note in mapped.notes:
            job.log(note)
        started = time.monotonic()
        prompt = getattr(job.request, "prompt", "")
        if settings.faults.fails(prompt):
            await asyncio.sleep(total * 0.2)
            msg = "The prompt was flagged by the content policy (injected fault)"
            detail = [{"loc": ["body", "prompt"], "msg": msg, "type": "content_policy_violation"}]
            job.fail(422, {"detail": detail}, msg, "content_policy_violation")
            return
        try:
            inputs = await self._inputs(job, mapped) if spec.kind == "image-edit" else None
        except InputError as exc:
            problem: dict[str, Any] = {"loc": ["body", *exc.loc], "msg": exc.message, "type": exc.error_type}
            job.fail(422, {"detail": [problem]}, exc.message, exc.error_type)
            return
        lines = _LogLines(job)
        files = await asyncio.get_running_loop().run_in_executor(
            self.executor, self._generate, job, mapped.request, inputs, lines
        )
        drawn = {(f["width"], f["height"]) for f in files}
        if mapped.wanted is not None and drawn != {mapped.wanted}:
            sizes = ", ".join(f"{w}x{h}" for w, h in sorted(drawn))
            w, h = mapped.wanted
            lines(f"Drew {sizes}: the offline engine's nearest to the requested {w}x{h}", 1.0)
        schedule = sorted([(p, m, None) for m, p in lines.lines] + [(p, None, e) for p, e in lines.partials], key=_at)
        for progress, message, partial in schedule:  # a cancel cancels this task, and so these sleeps
            delay = started + total * progress - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if partial is not None:
                await settings.faults.gate("partial")
                job.add_partial(partial)
            elif message is not None:
                await settings.faults.gate("log")
                job.log(message)
        remaining = started + total - time.monotonic()
        if remaining > 0:
            await asyncio.sleep(remaining)
        body = output(spec, files, job.request, job.id)
        if body.get("offline_placeholders"):
            job.log(f"Offline placeholders (no model ran): {', '.join(body['offline_placeholders'])}")
        await settings.faults.gate("output")
        job.complete(body)

    def _generate(self, job: Job, request: Any, inputs: _Inputs | None, log: _LogLines) -> list[dict[str, Any]]:
        """In the engine thread: render, then store the files (or inline them under sync_mode)."""
        if inputs is None:
            images = engines.generate(request, job.endpoint_id, log=log)
        else:
            images = engines.edit(request, inputs.images, inputs.mask, log=log)
        if job.cancelled_flag.is_set():
            raise JobCancelled
        if job.stream and images:
            log.partials = _partial_events(images[0].data, str(getattr(request, "quality", "auto")))
        inline = bool(getattr(request, "sync_mode", False))
        files = []
        for i, image in enumerate(images):
            name = f"{job.id[:8]}-{i}.{image.extension}"
            if inline:
                url = to_data_uri(image.data, image.content_type)
            else:
                url = self.backend.storage.put(image.data, image.content_type, name).url(job.base_url)
            files.append(
                {
                    "url": url,
                    "content_type": image.content_type,
                    "file_name": name,
                    "file_size": len(image.data),
                    "width": image.width,
                    "height": image.height,
                }
            )
        return files

    async def _inputs(self, job: Job, mapped: Mapped) -> _Inputs:
        urls: list[str] = list(getattr(mapped.request, "image_urls", []) or [])
        field = mapped.image_field
        if not urls:
            raise InputError([field], "The offline engine needs an input image to edit", "image_load_error")
        images = []
        for i, url in enumerate(urls):
            loc: list[str | int] = [field, i] if field.endswith("s") else [field]
            data = await self._fetch(job, url, loc)
            images.append(await self._decode(data, loc))
            job.log(f"Loaded input image {i + 1}/{len(urls)} ({images[-1].width}x{images[-1].height})")
        mask_url = next((getattr(mapped.request, f) for f in MASK_FIELDS if getattr(mapped.request, f, None)), None)
        mask = None
        if mask_url:
            where: list[str | int] = [mapped.mask_field]
            mask = await self._decode(await self._fetch(job, mask_url, where), where)
            job.log(f"Loaded mask ({mask.width}x{mask.height}, {'alpha' if 'A' in mask.getbands() else 'no alpha'})")
        return _Inputs(images, mask)

    async def _decode(self, data: bytes, loc: list[str | int]) -> Image.Image:
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, open_image, data)
        except ImageTooLarge:
            raise InputError(
                loc,
                f"The image has more than {MAX_INPUT_PIXELS:,} pixels; resize it (the models "
                "work at 1536 px at most) and send it again",
                "image_too_large",
            ) from None
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise InputError(
                loc, f"Could not read the file as an image ({type(exc).__name__})", "image_load_error"
            ) from None

    async def _fetch(self, job: Job, url: str, loc: list[str | int]) -> bytes:
        """Bytes of an input: a data URI, a file this server stores, or (only if allowed) a remote URL."""
        if url.startswith("data:"):
            try:
                return decode_data_uri(url)[0]
            except ValueError as exc:
                raise InputError(loc, f"Invalid data URI: {exc}", "file_download_error") from None
        try:
            urlsplit(url).port  # noqa: B018 - a bad IPv6 host or port (the request model lets them through)
        except ValueError as exc:
            raise InputError(
                loc, f"Invalid URL ({exc}); pass an http(s) URL or a data URI", "file_download_error"
            ) from None
        stored = self.backend.storage.find(url, self.backend.own_origins(job.base_url))
        if stored is not None:
            found = self.backend.storage.read(stored.id)
            if found is not None:
                return found[0]
        if self.backend.is_own_url(url, job.base_url):
            raise InputError(
                loc,
                "File not found on this local server (it may have been stored by an earlier run)",
                "file_download_error",
            )
        if not self.backend.settings.allow_remote_fetch:
            raise InputError(
                loc,
                "the offline server does not fetch http(s) URLs (it works without a network): upload the image "
                "(the form's Upload, a file path, bytes or a PIL image through the client, or "
                "fal_client.upload_file), pass a data URI, or start the server with allow_remote_fetch=True",
                "file_download_error",
            )
        return await self._download(self.backend.http, url, loc)

    async def _download(self, http: httpx.AsyncClient, url: str, loc: list[str | int]) -> bytes:
        import httpx

        limit = self.backend.settings.max_upload_bytes
        try:
            async with http.stream("GET", url, follow_redirects=True, timeout=30.0) as response:
                if response.status_code >= 400:
                    raise InputError(
                        loc, f"Downloading the file failed with HTTP {response.status_code}", "file_download_error"
                    )
                cap = Cap(limit, lambda: InputError(loc, f"The file is larger than {limit} bytes", "file_too_large"))
                return await cap.aread(response)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is not an HTTPError
            raise InputError(loc, f"Downloading the file failed: {type(exc).__name__}", "file_download_error") from None
