"""Keys are checked when they are read (key=, FAL_KEY, FAL_KEY_ID + FAL_KEY_SECRET, a Colab secret): a malformed
one is a typed error that never echoes it, raised before anything is sent; and Colab secrets are found."""

from __future__ import annotations

import logging
import sys
import traceback
import types
from collections.abc import Callable, Iterator

import pytest

import falstudio as fs
from falstudio.client import errors
from falstudio.client._credentials import find_key, resolve
from falstudio.local import LocalServer

KEY_ID = "0123abcd-0000-1111-2222-333344445555"
SECRET = "feedfacecafebeef0123456789abcdef"
GOOD = f"{KEY_ID}:{SECRET}"

# What a paste accident or a word processor does to a key (inside it: whitespace around a key is just dropped).
HEAD, TAIL = SECRET[:16], SECRET[16:]
DAMAGED = {
    "line break": f"{KEY_ID}:{HEAD}\r\n{TAIL}",
    "NUL": f"{KEY_ID}:{HEAD}\x00{TAIL}",
    "space or tab": f"{KEY_ID}:{HEAD} {TAIL}",
    "curly quote": f"\u201c{KEY_ID}:{SECRET}\u201d",
    "non-ASCII": f"{KEY_ID}:{HEAD}\u00e9{TAIL}",
    "control character": f"{KEY_ID}:{HEAD}\x1b{TAIL}",
}


class _Colab(types.ModuleType):
    """``google.colab`` with a ``userdata.get`` that returns ``value`` (or raises it)."""

    def __init__(self, value: object) -> None:
        super().__init__("google.colab")
        self.calls: list[str] = []
        userdata = types.ModuleType("google.colab.userdata")

        def get(name: str) -> object:
            self.calls.append(name)
            if isinstance(value, BaseException):
                raise value
            return value

        userdata.get = get  # type: ignore[attr-defined]
        self.userdata = userdata


@pytest.fixture
def colab(monkeypatch: pytest.MonkeyPatch) -> Callable[[object], _Colab]:
    """``colab(value)``: pretend to run in Colab with a secret FAL_KEY of ``value`` (an exception: get raises)."""

    def install(value: object) -> _Colab:
        module = _Colab(value)
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
        monkeypatch.setitem(sys.modules, "google.colab", module)
        monkeypatch.setitem(sys.modules, "google.colab.userdata", module.userdata)
        return module

    return install


@pytest.fixture
def httpcore_log() -> Iterator[list[logging.LogRecord]]:
    """Every record httpcore and httpx log, down to DEBUG (where httpcore logs failed header writes)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in ("httpcore", "httpx")]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
    yield records
    for log, level in zip(loggers, levels, strict=True):
        log.removeHandler(handler)
        log.setLevel(level)


def _assert_not_echoed(exc: BaseException, key: str) -> None:
    shown = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) + repr(exc) + repr(exc.args)
    for part in (key, key.strip(), SECRET, HEAD, TAIL, KEY_ID):
        assert part not in shown, shown


@pytest.mark.parametrize("what", DAMAGED)
@pytest.mark.parametrize("source", ["key=", "FAL_KEY", "FAL_KEY_ID + FAL_KEY_SECRET", "Colab secret"])
def test_a_damaged_key_is_a_typed_error_that_never_echoes_it(
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    colab: Callable[[object], _Colab],
    httpcore_log: list[logging.LogRecord],
    what: str,
    source: str,
) -> None:
    key = DAMAGED[what]
    if "\x00" in key and source.startswith("FAL_KEY"):
        pytest.skip("an environment variable cannot hold a NUL")
    given = None
    if source == "key=":
        given = key
    elif source == "FAL_KEY":
        monkeypatch.setenv("FAL_KEY", key)
    elif source == "Colab secret":
        colab(key)
    else:
        key_id, _, secret = key.partition(":")
        monkeypatch.setenv("FAL_KEY_ID", key_id)
        monkeypatch.setenv("FAL_KEY_SECRET", secret)
    with pytest.raises(errors.InvalidKeyError) as caught:
        # base_url: even a reachable server never sees the key (it is refused before any request).
        fs.Client(given, base_url=server.url, history=False).run("fal-ai/gpt-image-1-mini", {"prompt": "x"})
    exc = caught.value
    assert isinstance(exc, errors.AuthError) and isinstance(exc, ValueError)
    assert not isinstance(exc, (errors.NetworkError, ConnectionError, UnicodeError))
    message = str(exc)
    assert what.strip() in message and "fal.ai/dashboard/keys" in message
    assert {"key=": "key=", "FAL_KEY": "FAL_KEY environment", "Colab secret": "Colab secret FAL_KEY"}.get(
        source, "FAL_KEY_ID and FAL_KEY_SECRET"
    ) in message
    _assert_not_echoed(exc, key)
    logged = " ".join(record.getMessage() for record in httpcore_log)
    assert HEAD not in logged and TAIL not in logged
    assert not any("send_request_headers" in record.getMessage() for record in httpcore_log)  # nothing was sent


def test_surrounding_whitespace_is_a_paste_accident_and_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAL_KEY", f"  {GOOD}\r\n")
    target = resolve()
    assert target.mode == "fal" and target.key is not None and target.key.reveal() == GOOD


@pytest.mark.parametrize("key", ["   ", 12345])
def test_an_empty_or_non_string_key_says_so(key: object) -> None:
    with pytest.raises(errors.InvalidKeyError, match=r"empty|must be a string"):
        fs.Client(key, base_url="http://127.0.0.1:9", history=False)  # type: ignore[arg-type]


def test_a_colab_secret_is_read_after_the_environment(
    monkeypatch: pytest.MonkeyPatch, colab: Callable[[object], _Colab]
) -> None:
    fake = colab(GOOD)
    assert find_key() == (GOOD, "the Colab secret FAL_KEY")
    client = fs.Client(history=False)
    assert client.mode == "fal" and client.base_url == "https://queue.fal.run"
    assert fake.calls == ["FAL_KEY", "FAL_KEY"]
    monkeypatch.setenv("FAL_KEY", "env-id:env-secret")
    assert find_key() == ("env-id:env-secret", "the FAL_KEY environment variable")
    assert len(fake.calls) == 2  # the environment wins: Colab is not asked


@pytest.mark.parametrize("failure", [RuntimeError("SecretNotFoundError"), PermissionError("access not granted"), None])
def test_a_colab_secret_that_cannot_be_read_means_no_key(
    colab: Callable[[object], _Colab], failure: BaseException | None
) -> None:
    fake = colab(failure)
    assert find_key() is None
    assert fake.calls == ["FAL_KEY"]


def test_outside_colab_no_colab_secret_is_looked_up(
    monkeypatch: pytest.MonkeyPatch, colab: Callable[[object], _Colab]
) -> None:
    fake = colab(GOOD)
    monkeypatch.delitem(sys.modules, "google.colab")  # importable maybe, but not running in Colab
    assert find_key() is None and fake.calls == []


@pytest.mark.parametrize("key", ["abc", "abc:", ":abc", "0123456789abcdef"])
def test_a_key_not_in_fals_form_is_refused_before_any_connection(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """``FAL_KEY=abc`` is not a fal key: refused when the client is made, never sent to queue.fal.run."""
    import httpx

    sent: list[str] = []
    monkeypatch.setattr(httpx.AsyncClient, "send", lambda self, request, **_: sent.append(str(request.url)))
    monkeypatch.setenv("FAL_KEY", key)
    with pytest.raises(errors.InvalidKeyError) as info:
        fs.Client()
    text = f"{info.value} {info.value.hint}"
    assert "FAL_KEY" in text and "key_id:key_secret" in text and "base_url" not in text
    assert key.strip(":") not in str(info.value)
    assert sent == []
    fs.Client(key="id-1:secret-2").close()  # fal's form is taken


def test_a_network_error_hint_never_names_a_base_url_nobody_set() -> None:
    import httpx

    error = errors.network_error(httpx.ConnectError("refused"), "https://queue.fal.run/x", timeout=5.0)
    assert "base_url" not in f"{error} {error.hint}" and "queue.fal.run" in str(error)
