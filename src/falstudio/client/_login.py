"""The token ``fal auth login`` saves, read (and refreshed) the way fal-client 1.0.3 reads it.

fal's CLI keeps it in ``$FAL_HOME_DIR/auth0_token`` (default ``~/.fal/auth0_token``): the refresh token on the
first line, the last access token (a JWT) on the second. An access token that expires within five minutes is
renewed with the refresh token at fal's auth service, and the file is updated for the CLI and fal-client too.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from pathlib import Path

import httpx

from .._internal.tls import default_context

AUTH_TOKEN_URL = "https://auth.fal.ai/oauth/token"  # fal-client's AUTH0_TOKEN_URL
AUTH_CLIENT_ID = "TwXR51Vz8JbY8GUUMy6EyuVR0fTO7N4N"  # fal CLI's public OAuth client id (as in fal-client)
TOKEN_FILE = "auth0_token"
LEEWAY_SECONDS = 300


def has_login() -> bool:
    """Whether ``fal auth login`` saved a token (maybe expired: a client renews it)."""
    try:
        return bool(token_file().read_text().strip())
    except (OSError, UnicodeDecodeError):
        return False


def token_file() -> Path:
    return Path(os.getenv("FAL_HOME_DIR") or Path.home() / ".fal").expanduser() / TOKEN_FILE


def login_token(*, refresh: bool = True) -> tuple[str | None, str]:
    """``(access token, "")`` from ``fal auth login``, or ``(None, why not)``; ``refresh=False`` leaves an expired
    access token unrenewed (no network)."""
    path = token_file()
    try:
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        return None, f"{path}: not found"
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{path}: unreadable ({type(exc).__name__})"
    if not lines:
        return None, f"{path}: empty"
    refresh_token, access = lines[0], lines[1] if len(lines) > 1 else None
    if access and not _expired(access):
        return access, ""
    if not refresh:
        return None, f"{path}: the login has expired (a client made now renews it)"
    try:
        renewed = _renew(refresh_token)
    except (httpx.HTTPError, ValueError) as exc:
        return None, f"{path}: the login expired and renewing it failed ({exc}); run `fal auth login` again"
    _save(path, renewed.get("refresh_token") or refresh_token, renewed["access_token"])
    return str(renewed["access_token"]), ""


def _expired(token: str) -> bool:
    """Whether a JWT expires within :data:`LEEWAY_SECONDS` (an unreadable one counts as expired, as in fal-client)."""
    try:
        segment = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        return time.time() + LEEWAY_SECONDS >= int(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return True


def _renew(refresh_token: str) -> dict[str, str]:
    response = httpx.post(
        AUTH_TOKEN_URL,
        data={"grant_type": "refresh_token", "client_id": AUTH_CLIENT_ID, "refresh_token": refresh_token},
        timeout=30,
        verify=default_context(),
    )
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise ValueError(f"fal's auth service answered HTTP {response.status_code}")
    return body


def _save(path: Path, refresh_token: str, access_token: str) -> None:
    """Replace the token file at once (never half-written), private to the user, in the CLI's layout."""
    try:
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".auth0_token.")
        with os.fdopen(handle, "w") as file:
            file.write(f"{refresh_token}\n{access_token}")
        os.replace(temp, path)
    except OSError:
        pass  # the renewed token still works for this process; the CLI renews its own next time
