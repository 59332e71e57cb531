"""A key passed wrapped (``SecretStr``, a typed request, the form) stays wrapped until its bytes go to the socket:
when a submit fails, no frame of the traceback holds it in plain text — what ``%xmode Verbose``, ``pytest
--showlocals`` and Sentry print."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import pytest
from pydantic import SecretStr

import falstudio as fs
from falstudio.client import AsyncClient, Client, RetryPolicy, errors
from falstudio.local import Faults, LocalServer

BYOK = "fal-ai/gpt-image-1/text-to-image/byok"
OPENAI_KEY = "sk-proj-plaintextOPENAIkey0123456789"
FAL_KEY = "0123abcd-0000-1111-2222-333344445555:feedfacecafebeef0123456789abcdef"
CLOSED = "http://127.0.0.1:9"
ONE_TRY = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)


def _frames(exc: BaseException) -> Iterator[Any]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb: TracebackType | None = current.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        todo += [current.__cause__, current.__context__]


def _walk(value: Any, depth: int = 0) -> Iterator[str]:
    """Every repr a locals printer may show: the value's, and (like Sentry) those inside builtin containers."""
    yield repr(value)
    if depth > 6:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(key, depth + 1)
            yield from _walk(item, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _walk(item, depth + 1)


def _assert_no_plain_secret(exc: BaseException) -> None:
    frames = list(_frames(exc))
    assert len(frames) > 5  # the walk reaches into falstudio and httpx
    for frame in frames:
        for name, value in frame.f_locals.items():
            for text in _walk(value):
                for secret in (OPENAI_KEY, FAL_KEY, FAL_KEY.split(":")[1]):
                    assert secret not in text, f"{frame.f_code.co_filename}:{frame.f_code.co_name} local {name}"
    shown = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    assert OPENAI_KEY not in shown and FAL_KEY not in shown


REQUESTS: dict[str, Callable[[], Any]] = {
    "SecretStr in a dict": lambda: {"prompt": "a fox", "openai_api_key": SecretStr(OPENAI_KEY)},
    "typed request": lambda: fs.endpoints.get(BYOK).validate({"prompt": "a fox", "openai_api_key": OPENAI_KEY}),
    "plain dict": lambda: {"prompt": "a fox", "openai_api_key": OPENAI_KEY},  # wrapped by the blocking client
}


@pytest.mark.parametrize("make_request", REQUESTS.values(), ids=list(REQUESTS))
def test_an_unreachable_server_at_submit(make_request: Callable[[], Any]) -> None:
    with Client(FAL_KEY, base_url=CLOSED, retry=ONE_TRY, history=False) as client:
        with pytest.raises(errors.NetworkError) as info:
            client.submit(BYOK, make_request())
        _assert_no_plain_secret(info.value)
        with pytest.raises(errors.NetworkError) as info:
            client.run(BYOK, make_request())
        _assert_no_plain_secret(info.value)


@pytest.mark.parametrize("make_request", REQUESTS.values(), ids=list(REQUESTS))
def test_a_gateway_failing_at_submit(make_request: Callable[[], Any]) -> None:
    with (
        LocalServer(port=0, latency=0, key=FAL_KEY, faults=Faults(ingress_503=1.0)) as server,
        Client(FAL_KEY, base_url=server.url, retry=ONE_TRY, history=True) as client,
        pytest.raises(errors.ServerError) as info,
    ):
        client.subscribe(BYOK, make_request())
    _assert_no_plain_secret(info.value)


def test_the_async_client_too() -> None:
    async def main() -> BaseException:
        async with AsyncClient(FAL_KEY, base_url=CLOSED, retry=ONE_TRY, history=False) as client:
            try:
                await client.submit(BYOK, REQUESTS["SecretStr in a dict"]())
            except errors.NetworkError as exc:
                return exc
        raise AssertionError("the submit did not fail")

    _assert_no_plain_secret(asyncio.run(main()))


def test_the_key_still_reaches_the_server_as_plain_json(server: LocalServer) -> None:
    with Client(server.key, base_url=server.url, history=False) as client:
        result = client.run(BYOK, REQUESTS["SecretStr in a dict"]())
    assert result.images  # the local server validated the body, key included
