"""fal's Platform API client against hostile replies, each case in a child under memory and time limits: a reply
bigger than any page (plain or a gzip bomb) is refused in bounded memory, a cursor that never ends is an error,
never a list silently cut short, and an error reply that echoes the key never carries it into the error."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from falstudio.client import Platform, errors

from ._bounded import run_bounded
from ._loopback import Loopback, document_route, endless_route, gzip_bomb_body, gzip_route, reply

_LIST = """
from falstudio.client import Platform, errors
try:
    keys = Platform(key="id:secret", base_url=URL).list_keys()
    report(outcome=f"{len(keys)} keys")
except errors.FalError as exc:
    report(outcome=type(exc).__name__, message=exc.message)
"""
_BIG = 2 * 1024**3
_KEY = "key-id-4821:key-secret-93ab7c"  # bytes a hostile reply carries (once inflated)


@pytest.fixture(scope="module")
def service() -> Iterator[Loopback]:
    bomb = gzip_bomb_body(b'{"keys": [', b'], "has_more": false}', _BIG)
    endless = {"keys": [{"key_id": "k", "alias": "a", "scope": "API", "created_at": ""}], "has_more": True}
    loopback = Loopback(
        {
            "/huge/keys": endless_route(b'{"keys": [', "application/json", _BIG),
            "/bomb/keys": gzip_route(bomb, "application/json"),
            "/endless/keys": document_route(json.dumps({**endless, "next_cursor": "Mg=="}).encode()),
            "/nested/keys": document_route(b"[" * 100_000),
            "/nested/models": document_route(b"[" * 100_000),
            "/echo/keys": lambda handler: reply(
                handler, 401, json.dumps({"error": {"message": f"bad key {_KEY}"}}).encode()
            ),
        }
    )
    yield loopback
    loopback.close()


@pytest.mark.parametrize("where", ["huge", "bomb"])
def test_a_reply_bigger_than_any_page_is_refused_in_bounded_memory(service: Loopback, where: str) -> None:
    result = run_bounded(f"URL = {service.url('/' + where)!r}\n" + _LIST, memory=1024**3)
    assert result["outcome"] == "ServerError", result
    assert "more than 32 MiB" in result["message"] and "GET /keys" in result["message"]


def test_a_cursor_that_never_ends_is_an_error_not_a_list_cut_short(service: Loopback) -> None:
    result = run_bounded(f"URL = {service.url('/endless')!r}\n" + _LIST)
    assert result["outcome"] == "ServerError", result
    assert "more than 1000 pages" in result["message"]


def test_a_reply_nested_too_deeply_is_a_clear_error(service: Loopback) -> None:
    """It used to raise RecursionError out of the Platform client and the catalog search."""
    result = run_bounded(f"URL = {service.url('/nested')!r}\n" + _LIST)
    assert result["outcome"] == "ServerError" and "not JSON" in result["message"], result
    search = """
import falstudio as fs
try:
    fs.endpoints.search("fox", refresh=True)
    report(outcome="found")
except Exception as exc:
    report(outcome=type(exc).__name__, message=str(exc))
"""
    env = {"FALSTUDIO_PLATFORM_URL": service.url("/nested"), "FAL_KEY": "", "FAL_HOME_DIR": "/nonexistent"}
    result = run_bounded(search, env=env)
    assert result["outcome"] != "RecursionError" and "nested too deeply" in result["message"], result


def test_an_error_reply_that_echoes_the_key_never_puts_it_in_the_error(service: Loopback) -> None:
    with pytest.raises(errors.AuthError) as caught:
        Platform(key=_KEY, base_url=service.url("/echo")).list_keys()
    said = str(caught.value)
    assert "bad key ***" in said and "key-id-4821" not in said and "key-secret-93ab7c" not in said, said
