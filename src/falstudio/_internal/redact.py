"""Defence in depth: scrub anything secret-looking before it reaches a file.

The client already passes ``request.redacted()``; this catches what slips past it (a secret in an
untyped request, an error message, an output field).
"""

from __future__ import annotations

import os
import re
from typing import Any

from falstudio.endpoints import REDACTED

_SECRET_KEY = re.compile(r"api[_-]?key|secret|token(?!s)|passw|authori[sz]ation|credential|^key$|_key$", re.I)
_SECRET_VALUE = re.compile(
    r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}"  # OpenAI-style keys
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-f]{16,}"  # fal key_id:key_secret
    r"|(?i:\b(?:key|bearer)\s+)[A-Za-z0-9_\-.:]{16,}",  # "Authorization: Key ..." echoed in a message
)
_ENV_SECRETS = ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "OPENAI_API_KEY")


def is_secret_key(name: str) -> bool:
    return bool(_SECRET_KEY.search(name))


def scrub_text(text: str) -> str:
    """``text`` with secret-looking substrings and the current credentials replaced by ``***``."""
    if text.startswith("data:"):
        return text  # base64 has no '-' and no spaces: no pattern above can match inside it
    text = _SECRET_VALUE.sub(REDACTED, text)
    for var in _ENV_SECRETS:
        value = os.environ.get(var, "")
        if len(value) >= 8 and value in text:
            text = text.replace(value, REDACTED)
    return text


def scrub(value: Any) -> Any:
    """A copy of a JSON-like value with secret-named keys and secret-looking strings redacted."""
    if isinstance(value, dict):
        return {
            str(k): (REDACTED if is_secret_key(str(k)) and v not in (None, "") else scrub(v)) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value
