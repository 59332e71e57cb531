"""The one redaction rule: secrets become ``***`` before anything is shown, logged, recorded or exported.

Used by the client (requests in records and error messages), the history (defence in depth before a file is
written) and the widgets (parameters shown next to images). A value is secret when its key is named like a
secret (key, secret, token, password, authorization, credential; token *counts* such as ``input_tokens`` are
not), or when the text itself looks like a key (OpenAI ``sk-...``, fal ``key_id:key_secret``, ``Key ...`` /
``Bearer ...`` headers echoed in a message), is the credential of a presigned URL (``X-Amz-Signature=``,
``X-Goog-Signature=``, ``sig=``, ``token=``...), or holds one of the current credentials from the environment.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "is_secret_key", "redact", "scrub_text"]

REDACTED = "***"

_SECRET_KEY = re.compile(r"key|secret|token(?!s)|passw|authori[sz]ation|credential", re.I)
_SECRET_VALUE = re.compile(
    r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}"  # OpenAI-style keys
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-f]{16,}"  # fal key_id:key_secret
    r"|(?i:\b(?:key|bearer)\s+)[A-Za-z0-9_\-.:]{16,}",  # "Authorization: Key ..." echoed in a message
)
# Query parameters that carry a credential in presigned URLs (S3, GCS, Azure SAS, CloudFront, generic tokens):
# the value goes, the parameter's name stays so the URL still says what it was.
_URL_CREDENTIAL = re.compile(
    r"(?i)([?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential"
    r"|signature|sig|token|access_token|auth|key-pair-id|policy|googleaccessid)=)[^&#\s\"'<>]+"
)
_BASE64_DATA_URI = re.compile(r"data:[\w.+/-]*(?:;[\w.+-]+=[\w.+-]+)*;base64,")
_ENV_SECRETS = ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "OPENAI_API_KEY")
_SHORTEST = 8  # the shortest credential looked for (environment values; "sk-" keys are longer); a presigned
# URL's credential is found by its "=" at any length
_PLAIN = (int, float, bool, type(None))


def is_secret_key(name: str) -> bool:
    """Whether a field or header called ``name`` holds a secret."""
    return _is_secret_name(name) if len(name) <= 64 else bool(_SECRET_KEY.search(name))


@functools.lru_cache(maxsize=1024)  # a request's few field names, met again in every record (long ones: not kept)
def _is_secret_name(name: str) -> bool:
    return bool(_SECRET_KEY.search(name))


def scrub_text(text: str) -> str:
    """``text`` with secret-looking substrings and the current credentials replaced by ``***``."""
    return _scrub(text, _credentials())


def _credentials() -> list[str]:
    """The current credentials from the environment (read at each call: they may be set at any time)."""
    return [value for value in map(os.environ.get, _ENV_SECRETS) if value is not None and len(value) >= 8]


def _scrub(text: str, credentials: list[str]) -> str:
    if len(text) < _SHORTEST and "=" not in text:  # "low", "1024x1024", "png": nothing secret fits in it
        return text
    if not _BASE64_DATA_URI.match(text):  # base64 has no '-' and no spaces: no pattern above can match inside it
        text = _SECRET_VALUE.sub(REDACTED, text)
        if "=" in text:
            text = _URL_CREDENTIAL.sub(rf"\1{REDACTED}", text)
    for value in credentials:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def redact(value: Any) -> Any:
    """A JSON-like copy of ``value`` with every secret replaced by ``***``.

    A typed request (anything with a ``redacted()`` method, such as falstudio's request models) redacts its
    own secret fields first; then secret-named keys and secret-looking strings are replaced at any depth.
    """
    return _redact(value, _credentials())


def _redact(value: Any, credentials: list[str]) -> Any:
    kind = type(value)
    if kind is str:
        return _scrub(value, credentials)
    if kind in _PLAIN:
        return value
    if kind is not dict and kind is not list:  # a typed request redacts its own secret fields first
        redacted = getattr(value, "redacted", None)
        if callable(redacted):
            value = redacted()
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if is_secret_key(str(k)) and v not in (None, "") else _redact(v, credentials))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact(v, credentials) for v in value]
    if isinstance(value, str):
        return _scrub(value, credentials)
    return value
