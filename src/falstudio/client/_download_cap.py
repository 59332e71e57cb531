"""How much of a file a download reads: ``$FALSTUDIO_MAX_DOWNLOAD_MB`` MiB, then it is refused unread."""

from __future__ import annotations

from .._internal.capped import Cap, megabytes_from_env
from . import errors

MAX_DOWNLOAD_MB_ENV = "FALSTUDIO_MAX_DOWNLOAD_MB"
MAX_DOWNLOAD_MB = 256  # a 4K PNG is ~25 MB: a file past this is not the image it claims to be


def max_download_bytes() -> int:
    """The cap on one downloaded file: ``$FALSTUDIO_MAX_DOWNLOAD_MB`` MiB (default 256)."""
    return megabytes_from_env(MAX_DOWNLOAD_MB_ENV, MAX_DOWNLOAD_MB)


def download_cap(url: str) -> Cap:
    """The cap on a download of ``url``: :func:`max_download_bytes`, its error naming the URL (without its query,
    which may be signed)."""
    limit = max_download_bytes()
    size = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit:,} bytes"

    def refuse() -> Exception:
        return errors.ServerError(
            f"the file at {errors.without_query(url)} is larger than {size}; refused unread",
            hint=f"check that this URL is the image's; to allow larger files, set {MAX_DOWNLOAD_MB_ENV} (MiB)",
        )

    return Cap(limit, refuse)
