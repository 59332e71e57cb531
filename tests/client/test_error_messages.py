"""What users see when they get something wrong: each error names the field, URL or limit and the fix,
in words rather than httpx internals, and nothing is sent for a request that is wrong locally."""

from __future__ import annotations

import httpx
import pytest

from falstudio.client import Client, Image, RetryPolicy, errors

pytestmark = pytest.mark.filterwarnings("ignore::falstudio.client.errors.EndpointDeprecationWarning")

EDIT = "fal-ai/gpt-image-1.5/edit"
SECRET = "key-id:super-secret-value"


def make_client(fake, **options):
    return Client(SECRET, base_url=fake.base, transport=httpx.MockTransport(fake.handler), history=False, **options)


@pytest.mark.parametrize(
    ("content", "name", "says"),
    [
        (b"", "empty.png", "empty.png is empty"),
        (b"just some text", "notes.txt", "notes.txt is not an image (PNG, JPEG, WebP or GIF) but text/plain"),
        (b"\x00\x01 no magic", None, "the data is not an image"),
    ],
)
def test_a_file_that_is_not_an_image_is_refused_before_sending(fake, tmp_path, content, name, says):
    value: bytes | str = content
    if name is not None:
        (tmp_path / name).write_bytes(content)
        value = str(tmp_path / name)
    with make_client(fake) as client, pytest.raises(errors.InvalidRequestError) as info:
        client.submit(EDIT, {"prompt": "edit it", "image_urls": ["https://x.test/a.png", value]})
    assert info.value.fields() == ["image_urls.1"]
    assert says in str(info.value) and "image_urls.1 an http(s) URL" in str(info.value.hint)
    assert fake.calls == []


def test_arguments_of_the_wrong_type_get_a_hint_that_fits(fake):
    with make_client(fake) as client, pytest.raises(errors.InvalidRequestError) as info:
        client.submit(EDIT, ["edit it"])  # type: ignore[arg-type]
    assert "not list" in str(info.value) and "pass a dict" in str(info.value.hint)
    assert "fields listed above" not in str(info.value)  # there are none
    with make_client(fake) as client, pytest.raises(TypeError, match="must be a string like 'fal-ai/"):
        client.submit(None, {"prompt": "x"})  # type: ignore[arg-type]


def test_a_slow_reply_is_a_timeout_not_an_unreachable_server(slow_server):
    slow = Client(base_url=slow_server.url, history=False)
    with slow, pytest.raises(errors.NetworkError) as info:
        slow.run("test/slow", {"seconds": 3}, timeout=0.3, validate=False)
    text = str(info.value)
    assert "no reply from" in text and "within timeout=0.3 s" in text and "larger timeout=" in text
    assert "may still be working on it" in text  # a run that reached the server may be billed
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)  # kept for code that inspects the cause
    dead = Client(base_url="http://127.0.0.1:9", history=False, retry=RetryPolicy(max_attempts=1))
    with dead, pytest.raises(errors.NetworkError, match=r"could not reach http://127\.0\.0\.1:9/run/test/slow \(Conn"):
        dead.run("test/slow", {"seconds": 0}, validate=False)


def test_a_client_timeout_before_anything_was_queued_says_so(slow_server):
    with Client(base_url=slow_server.url, history=False) as client, pytest.raises(errors.FalTimeoutError) as info:
        client.subscribe("test/slow", {"seconds": 3}, validate=False, client_timeout=1e-6)
    assert "nothing was queued" in str(info.value) and info.value.request_id is None


def test_image_downloads_name_the_url_not_an_endpoint(fake):
    fake.output = {"images": [{"url": f"{fake.base}/gone/x.png?token=signed"}]}
    fake.fail["/gone/x.png"] = [httpx.Response(404, json={"detail": "Not Found"})]
    with make_client(fake) as client, pytest.raises(errors.NotFoundError) as info:
        client.subscribe("acme/thing", {}, validate=False).images[0].bytes()
    assert not isinstance(info.value, errors.EndpointNotFoundError)
    assert f"GET {fake.base}/gone/x.png" in str(info.value) and "signed" not in str(info.value)
    with pytest.raises(errors.NetworkError, match=r"could not reach http://127\.0\.0\.1:9/x\.png"):
        Image(url="http://127.0.0.1:9/x.png").bytes()  # an Image without a client


def test_a_closed_client_says_which_and_what_to_do(fake):
    client = make_client(fake)
    client.close()
    with pytest.raises(RuntimeError, match=r"client is closed \(close\(\) was called.*create a new one"):
        client.submit("acme/thing", {}, validate=False)


def test_an_error_body_echoing_the_request_keeps_secrets_out():
    reply = httpx.Response(
        400,
        json={"detail": {"input": {"openai_api_key": "sk-secret", "prompt": "p"}}},
        request=httpx.Request("POST", "https://queue.fal.run/a/b"),
    )
    text = str(errors.from_response(reply, endpoint="a/b"))
    assert "sk-secret" not in text and '"prompt": "p"' in text
