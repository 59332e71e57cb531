"""Pure pieces of the client: endpoint ids and URLs, status parsing, SSE framing, log de-duplication,
error mapping, credentials and redaction."""

from __future__ import annotations

import asyncio
import pickle

import httpx
import pytest

from falstudio._internal.redact import redact
from falstudio.client import Completed, InProgress, LogEntry, Queued, errors
from falstudio.client._credentials import Key, key_from_env, resolve
from falstudio.client._protocol import EndpointId, Hosts, Urls, sse_events
from falstudio.client._retry import RetryPolicy, is_ingress_error, should_retry_error, should_retry_response
from falstudio.client._status import LogBook, parse_status, same_state


@pytest.mark.parametrize(
    ("endpoint", "full", "app_id"),
    [
        ("fal-ai/gpt-image-1.5", "fal-ai/gpt-image-1.5", "fal-ai/gpt-image-1.5"),
        ("fal-ai/gpt-image-1/edit-image/byok", "fal-ai/gpt-image-1/edit-image/byok", "fal-ai/gpt-image-1"),
        ("workflows/me/flow/x", "workflows/me/flow/x", "workflows/me/flow"),
        ("12345-myapp", "12345/myapp", "12345/myapp"),
    ],
)
def test_endpoint_ids(endpoint, full, app_id):
    parsed = EndpointId.parse(endpoint)
    assert (parsed.full, parsed.app_id) == (full, app_id)


@pytest.mark.parametrize("bad", ["gpt-image", "fal-ai/", "/x", "workflows/me"])
def test_bad_endpoint_ids_say_what_is_expected(bad):
    with pytest.raises(ValueError, match="must look like"):
        EndpointId.parse(bad)


def test_urls_on_fal_and_on_one_origin(monkeypatch):
    monkeypatch.delenv("FAL_RUN_HOST", raising=False)
    fal = Urls(Hosts.fal(), "fal-ai/gpt-image-1/edit-image")
    assert fal.submit == "https://queue.fal.run/fal-ai/gpt-image-1/edit-image"
    assert fal.run == "https://fal.run/fal-ai/gpt-image-1/edit-image"
    assert fal.status("r") == "https://queue.fal.run/fal-ai/gpt-image-1/requests/r/status"
    local = Urls(Hosts.single("http://127.0.0.1:9/"), "fal-ai/gpt-image-1.5")
    assert local.submit == "http://127.0.0.1:9/fal-ai/gpt-image-1.5"
    assert local.run == "http://127.0.0.1:9/run/fal-ai/gpt-image-1.5"
    assert local.status_stream("r") == "http://127.0.0.1:9/fal-ai/gpt-image-1.5/requests/r/status/stream"
    assert local.cancel("r").endswith("/requests/r/cancel")
    monkeypatch.setenv("FAL_RUN_HOST", "fal.example")
    assert Hosts.fal().queue == "https://queue.fal.example"


def test_status_parsing():
    assert parse_status({"status": "IN_QUEUE", "queue_position": 3}) == Queued(3)
    running = parse_status(
        {
            "status": "IN_PROGRESS",
            "logs": [{"message": "step 1", "level": "INFO", "source": "USER", "timestamp": "2026-11-23T10:00:00.5Z"}],
        }
    )
    assert isinstance(running, InProgress)
    entry = running.logs[0]
    assert (entry.message, entry.level, entry.source, entry.timestamp.year) == ("step 1", "INFO", "USER", 2026)
    done = parse_status({"status": "COMPLETED", "logs": None, "metrics": {"inference_time": 1.5}})
    assert isinstance(done, Completed) and done.ok and done.inference_seconds == 1.5
    cancelled = parse_status({"status": "COMPLETED", "error": "cancelled", "error_type": "request_cancelled"})
    assert cancelled.cancelled and not cancelled.ok
    with pytest.raises(ValueError, match="unknown request status"):
        parse_status({"status": "FAILED"})


def test_log_book_drops_lines_already_seen_and_same_state_detects_no_news():
    book = LogBook()
    line = {"message": "a", "timestamp": "2026-01-01T00:00:00Z"}
    first = book.fresh(parse_status({"status": "IN_PROGRESS", "logs": [line]}))
    again = book.fresh(parse_status({"status": "IN_PROGRESS", "logs": [line, {"message": "b"}]}))
    repeat = book.fresh(parse_status({"status": "IN_PROGRESS", "logs": [line, {"message": "b"}]}))
    assert [e.message for e in first.logs] == ["a"]
    assert [e.message for e in again.logs] == ["b"]
    assert repeat.logs == () and same_state(again, repeat)
    assert [e.message for e in book.entries] == ["a", "b"]
    assert not same_state(Queued(2), Queued(1))


def test_sse_framing_skips_comments_and_joins_data_lines():
    text = ': ping\r\n\r\ndata: {"status":\ndata: "IN_QUEUE"}\n\ndata: {"a": 1}\n\ndata: [DONE]\n\n'

    async def chunks(size: int):
        data = text.encode()
        for start in range(0, len(data), size):  # events and lines cut anywhere between chunks
            yield data[start : start + size]

    async def collect(size: int):
        return [event async for event in sse_events(chunks(size))]

    for size in (1, 3, 7, len(text)):
        assert asyncio.run(collect(size)) == [{"status": "IN_QUEUE"}, {"a": 1}]


def _response(code: int, body: object = None, headers: dict[str, str] | None = None, text: str | None = None):
    request = httpx.Request("GET", "http://x/")
    if text is not None:
        return httpx.Response(code, text=text, headers=headers, request=request)
    return httpx.Response(code, json=body, headers=headers, request=request)


def test_error_mapping():
    invalid = errors.from_response(
        _response(
            422,
            {
                "detail": [
                    {"loc": ["body", "image_urls", 0], "msg": "bad url", "type": "image_url", "input": "sk-secret"}
                ]
            },
        ),
        endpoint="fal-ai/x",
        request_id="r1",
    )
    assert isinstance(invalid, errors.InvalidRequestError) and isinstance(invalid, ValueError)
    assert invalid.errors == [{"loc": ("image_urls", 0), "msg": "bad url", "type": "image_url"}]
    assert invalid.fields() == ["image_urls.0"]
    assert "image_urls.0: bad url" in str(invalid) and "fal-ai/x" in str(invalid) and "r1" in str(invalid)
    assert "sk-secret" not in str(invalid)

    policy = errors.from_response(
        _response(422, {"detail": [{"loc": ["body", "prompt"], "msg": "flagged", "type": "content_policy_violation"}]}),
        endpoint="e",
    )
    assert isinstance(policy, errors.ContentPolicyError)
    locked = errors.from_response(
        _response(403, {"detail": "User is locked. Reason: Exhausted balance."}), endpoint="e"
    )
    assert isinstance(locked, errors.AuthError) and "Exhausted balance" in str(locked)
    missing = errors.from_response(_response(404, {"detail": 'Application "x" not found'}), endpoint="a/x")
    assert isinstance(missing, errors.EndpointNotFoundError) and "a/x" in str(missing)
    gone_request = errors.from_response(_response(404, {"detail": "no such request"}), endpoint="a/x", request_id="r9")
    assert isinstance(gone_request, errors.RequestNotFoundError) and "r9" in str(gone_request)
    assert isinstance(
        errors.from_response(_response(429, {"detail": "slow down"}), endpoint="e"), errors.RateLimitedError
    )
    server = errors.from_response(_response(500, text="boom"), endpoint="e")
    assert isinstance(server, errors.ServerError) and "boom" in str(server)
    typed = errors.from_response(_response(500, {"detail": "x"}), endpoint="e", error_type="fallback_type")
    assert typed.error_type == "fallback_type"


def test_errors_pickle_with_their_context():
    error = errors.FalTimeoutError("gave up", endpoint="a/b", request_id="r1")
    clone = pickle.loads(pickle.dumps(error))
    assert isinstance(clone, TimeoutError) and clone.request_id == "r1" and str(clone) == str(error)


def test_retry_rules():
    assert should_retry_response(_response(429, {})) and should_retry_response(_response(408, {}))
    assert should_retry_response(_response(503, text="<html>nginx</html>"))
    assert not should_retry_response(_response(503, {}, headers={"x-fal-request-id": "r"}))
    assert not is_ingress_error(_response(504, {}, headers={"x-fal-request-timeout-type": "user"}))
    assert not should_retry_response(_response(422, {})) and not should_retry_response(_response(401, {}))
    assert should_retry_error(httpx.ReadError("x"), idempotent=True)
    assert not should_retry_error(httpx.ReadError("x"), idempotent=False)  # a submit may have landed
    assert should_retry_error(httpx.ConnectError("x"), idempotent=False)  # nothing was sent
    policy = RetryPolicy(base_delay=1, max_delay=3)
    assert all(0.5 <= policy.delay(1) <= 1.5 for _ in range(50))
    assert all(policy.delay(9) <= 4.5 for _ in range(50))
    assert policy.delay(1, _response(429, {}, headers={"retry-after": "2"})) == 2


def test_credentials_order(monkeypatch):
    for var in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
        monkeypatch.delenv(var, raising=False)
    assert key_from_env() is None
    monkeypatch.setenv("FAL_KEY_ID", "id")
    monkeypatch.setenv("FAL_KEY_SECRET", "secret")
    assert key_from_env() == "id:secret"
    monkeypatch.setenv("FAL_KEY", "whole-id:whole-secret")
    assert key_from_env() == "whole-id:whole-secret"
    target = resolve()
    assert target.mode == "fal" and target.key is not None and target.base_url == "https://queue.fal.run"
    assert resolve("k", "http://127.0.0.1:8000").mode == "local"
    assert resolve("k", "https://proxy.example").mode == "fal"


def test_key_never_shows_itself():
    key = Key("abc:very-secret")
    assert "very-secret" not in repr(key) + str(key) + f"{key}"
    with pytest.raises(TypeError):
        pickle.dumps(key)


def test_redaction_of_plain_requests():
    request = {"prompt": "p", "openai_api_key": "sk-1", "nested": {"auth_token": "t"}, "list": [{"secret": 1}]}
    assert redact(request) == {
        "prompt": "p",
        "openai_api_key": "***",
        "nested": {"auth_token": "***"},
        "list": [{"secret": "***"}],
    }


def test_redaction_shortcuts_miss_no_secret(monkeypatch):
    """Short plain strings, numbers, dicts and lists take quick paths; none of them lets a secret through."""
    monkeypatch.setenv("OPENAI_API_KEY", "8chars!!")  # the shortest credential looked for
    long_name = "x" * 100 + "_api_key"  # too long to be remembered: still a secret's name
    request = {
        "quality": "low",
        "n": 2,
        "ratio": 1.5,
        "flag": True,
        "none": None,
        "url": "?sig=ab",  # a presigned URL's credential is short and has no key-like shape
        "env": "8chars!!",
        "in_text": "a prompt with 8chars!! inside",
        long_name: "v",
        "tuple": ("low", "8chars!!"),
    }
    assert redact(request) == {
        "quality": "low",
        "n": 2,
        "ratio": 1.5,
        "flag": True,
        "none": None,
        "url": "?sig=***",
        "env": "***",
        "in_text": "a prompt with *** inside",
        long_name: "***",
        "tuple": ["low", "***"],
    }
    assert redact({long_name: "v"}) == {long_name: "***"}  # asked again: still found, not cached


def test_log_entry_str():
    assert str(LogEntry("hello", level="INFO")) == "INFO hello"


def test_only_api_origins_receive_the_key(monkeypatch):
    monkeypatch.delenv("FAL_RUN_HOST", raising=False)
    assert Hosts.fal().origins == {"https://queue.fal.run", "https://fal.run", "https://rest.fal.ai"}


def test_text_that_merely_starts_with_data_is_still_scrubbed(monkeypatch):
    from falstudio._internal.redact import scrub_text

    fal_key = "0123abcd-0000-1111-2222-333344445555:0123456789abcdef0123456789abcdef"
    monkeypatch.setenv("FAL_KEY", fal_key)
    assert scrub_text("data: my keys are sk-proj-abcdefgh123 and " + fal_key) == "data: my keys are *** and ***"
    assert scrub_text("data:text/plain," + fal_key) == "data:text/plain,***"
    image = "data:image/png;base64,iVBORw0KGgo-not-a-key-sk-abcdefgh123"  # base64 payloads are left alone
    assert scrub_text(image) == image


def test_an_sse_event_that_is_not_json_is_a_server_error_naming_it():
    """A deeply nested, cut or non-UTF-8 event used to raise RecursionError or a bare ValueError out of a stream."""

    async def collect(text: bytes):
        async def chunks():
            yield text

        return [event async for event in sse_events(chunks(), endpoint="openai/gpt-image-2")]

    for bad in (b"data: " + b"[" * 100_000 + b"\n\n", b'data: {"a": \n\n', b"data: \xff\xfe\n\n"):
        with pytest.raises(errors.ServerError, match="a stream event is not JSON") as caught:
            asyncio.run(collect(bad))
        assert caught.value.endpoint == "openai/gpt-image-2"
