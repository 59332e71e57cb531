"""The queue and sync APIs over loopback HTTP: routes, status codes, field names, errors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from falstudio import endpoints
from falstudio.local import LocalServer

MINI = "fal-ai/gpt-image-1-mini"
BYOK_EDIT = "fal-ai/gpt-image-1/edit-image/byok"


def _finish(api: httpx.Client, status_url: str, wait_until: Callable[..., Any]) -> dict[str, Any]:
    return wait_until(lambda: (r := api.get(status_url)).json()["status"] == "COMPLETED" and r.json())


def test_submit_response_fields(api: httpx.Client, server: LocalServer) -> None:
    r = api.post(f"/{MINI}", json={"prompt": "a lake", "quality": "low"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"request_id", "response_url", "status_url", "cancel_url", "queue_position", "status"}
    rid = body["request_id"]
    assert r.headers["x-fal-request-id"] == rid
    base = f"{server.url}/fal-ai/gpt-image-1-mini/requests/{rid}"
    assert body["response_url"] == base
    assert body["status_url"] == f"{base}/status"
    assert body["cancel_url"] == f"{base}/cancel"
    assert body["status"] in ("IN_QUEUE", "IN_PROGRESS")
    assert isinstance(body["queue_position"], int)


def test_status_result_and_metrics(api: httpx.Client, wait_until: Callable[..., Any]) -> None:
    sub = api.post(f"/{MINI}", json={"prompt": "a lake at night", "quality": "low", "num_images": 2}).json()
    done = _finish(api, sub["status_url"], wait_until)
    assert done["logs"] is None
    assert done["metrics"]["inference_time"] >= 0
    assert "queue_position" not in done and "error" not in done
    r = api.get(sub["status_url"])
    assert r.status_code == 200 and r.headers["x-fal-request-id"] == sub["request_id"]
    result = api.get(sub["response_url"])
    assert result.status_code == 200
    images = result.json()["images"]
    assert len(images) == 2
    for image in images:
        assert set(image) == {"url", "content_type", "file_name", "file_size", "width", "height"}
        file = httpx.get(image["url"])  # files need no key, like the CDN
        assert file.status_code == 200
        assert file.headers["content-type"] == image["content_type"] == "image/png"
        assert len(file.content) == image["file_size"]
    endpoints.get(MINI).output_model.model_validate(result.json())


@pytest.mark.parametrize("flag", ["1", "true"])
def test_logs_only_when_asked(api: httpx.Client, wait_until: Callable[..., Any], flag: str) -> None:
    sub = api.post(f"/{MINI}", json={"prompt": "mountains", "quality": "low"}).json()
    _finish(api, sub["status_url"], wait_until)
    body = api.get(sub["status_url"], params={"logs": flag}).json()
    assert isinstance(body["logs"], list) and len(body["logs"]) >= 3
    entry = body["logs"][0]
    assert set(entry) == {"message", "level", "source", "timestamp"}
    assert entry["source"] == "USER" and entry["timestamp"].endswith("Z")
    assert api.get(sub["status_url"], params={"logs": "0"}).json()["logs"] is None


def test_status_codes_while_queued_and_running(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client], wait_until: Callable[..., Any]
) -> None:
    srv = make_server(latency=30, concurrency=1)
    api = client_for(srv)
    first = api.post(f"/{MINI}", json={"prompt": "one", "quality": "low"}).json()
    second = api.post(f"/{MINI}", json={"prompt": "two", "quality": "low"}).json()
    third = api.post(f"/{MINI}", json={"prompt": "three", "quality": "low"}).json()
    running = wait_until(lambda: (r := api.get(first["status_url"])).json()["status"] == "IN_PROGRESS" and r)
    assert running.status_code == 202
    assert "queue_position" not in running.json() and running.json()["metrics"] == {}
    queued = api.get(second["status_url"])
    assert queued.status_code == 202
    assert queued.json()["status"] == "IN_QUEUE" and queued.json()["queue_position"] == 0
    assert api.get(third["status_url"]).json()["queue_position"] == 1
    assert third["queue_position"] >= 1
    not_ready = api.get(first["response_url"])
    assert not_ready.status_code == 400 and not_ready.json() == {"detail": "Request is still in progress"}
    # positions move when the queue does
    assert api.put(second["cancel_url"]).status_code == 202
    assert api.get(third["status_url"]).json()["queue_position"] == 0
    for sub in (first, third):
        api.put(sub["cancel_url"])


def test_validation_errors_match_the_request_model(api: httpx.Client) -> None:
    bad = {"prompt": "", "num_images": 9, "colour": "red"}
    r = api.post(f"/{MINI}", json=bad)
    assert r.status_code == 422
    assert "x-fal-request-id" in r.headers
    detail = r.json()["detail"]
    with pytest.raises(ValidationError) as caught:
        endpoints.get(MINI).validate(bad)
    expected = [(["body", *e["loc"]], e["msg"], e["type"]) for e in caught.value.errors()]
    assert [(d["loc"], d["msg"], d["type"]) for d in detail] == expected
    assert any(d["loc"] == ["body", "num_images"] and d["ctx"] == {"le": 4} for d in detail)
    # the same on the sync route
    assert api.post(f"/run/{MINI}", json=bad).json()["detail"] == detail


def test_validation_errors_never_echo_secrets(api: httpx.Client) -> None:
    secret = "sk-test-SECRET-value-1234"
    r = api.post(
        f"/{BYOK_EDIT}", json={"prompt": "x", "image_urls": ["ftp://nope"], "openai_api_key": secret, "num_images": 0}
    )
    assert r.status_code == 422
    assert secret not in r.text


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2"])
def test_malformed_json_is_422(api: httpx.Client, body: bytes) -> None:
    r = api.post(f"/{MINI}", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


def test_non_object_json_and_wrong_content_type_are_422(api: httpx.Client) -> None:
    assert api.post(f"/{MINI}", json=[1, 2]).status_code == 422
    r = api.post(f"/{MINI}", content=b"prompt=hello", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422


def test_unknown_application_and_endpoint_are_404(api: httpx.Client) -> None:
    r = api.post("/fal-ai/flux-pro", json={"prompt": "x"})
    assert r.status_code == 404 and r.json()["detail"].startswith('Application "flux-pro" not found')
    r = api.post("/fal-ai/gpt-image-1/nope", json={"prompt": "x"})
    assert r.status_code == 404 and "fal-ai/gpt-image-1/edit-image" in r.json()["detail"]
    assert api.post("/run/fal-ai/flux-pro", json={"prompt": "x"}).status_code == 404


def test_unknown_routes_and_methods_are_json_4xx(api: httpx.Client) -> None:
    r = api.get("/nothing/here")  # any path is a potential endpoint id, which only takes POST
    assert r.status_code == 405 and r.json()["detail"].startswith("Method Not Allowed: GET /nothing/here; submit")
    r = api.get(f"/{MINI}/requests/abc/status/extra")
    assert r.status_code == 405 and r.json()["detail"]
    r = api.post(f"/{MINI}/requests/abc/cancel")
    assert r.status_code == 405 and r.json()["detail"]
    assert api.delete(f"/{MINI}").status_code == 405


def test_unknown_request_id(api: httpx.Client) -> None:
    base = f"/{MINI}/requests/does-not-exist"
    assert api.get(f"{base}/status").status_code == 404
    assert api.get(base).status_code == 404
    r = api.put(f"{base}/cancel")
    assert r.status_code == 404 and r.json() == {"status": "NOT_FOUND"}


def test_full_endpoint_id_and_trailing_slashes_are_tolerated(api: httpx.Client, wait_until: Callable[..., Any]) -> None:
    edit_id = "fal-ai/gpt-image-1.5/edit"
    image = "data:image/png;base64," + base64.b64encode(_tiny_png()).decode()
    sub = api.post(f"/{edit_id}", json={"prompt": "sepia", "image_urls": [image], "quality": "low"}).json()
    assert sub["status_url"].startswith(f"{str(api.base_url).rstrip('/')}/fal-ai/gpt-image-1.5/requests/")
    rid = sub["request_id"]
    wait_until(lambda: api.get(f"/{edit_id}/requests/{rid}/status").json()["status"] == "COMPLETED")
    assert api.get(f"/fal-ai/gpt-image-1.5/requests/{rid}/status/").status_code == 200
    assert api.get(f"/fal-ai/gpt-image-1.5/requests/{rid}/").status_code == 200
    assert api.get(f"/fal-ai/gpt-image-1/requests/{rid}/status").status_code == 404  # another app's path


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def test_sync_run_and_sync_mode(api: httpx.Client) -> None:
    r = api.post(f"/run/{MINI}", json={"prompt": "a house", "quality": "low", "sync_mode": True})
    assert r.status_code == 200 and r.headers["x-fal-request-id"]
    [image] = r.json()["images"]
    assert image["url"].startswith("data:image/png;base64,")
    assert len(base64.b64decode(image["url"].split(",", 1)[1])) == image["file_size"]


def test_cancel_queued_and_running_and_completed(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client], wait_until: Callable[..., Any]
) -> None:
    srv = make_server(latency=30, concurrency=1)
    api = client_for(srv)
    running = api.post(f"/{MINI}", json={"prompt": "one", "quality": "high"}).json()
    queued = api.post(f"/{MINI}", json={"prompt": "two", "quality": "high"}).json()
    wait_until(lambda: api.get(running["status_url"]).json()["status"] == "IN_PROGRESS")
    for sub in (queued, running):
        r = api.put(sub["cancel_url"])
        assert r.status_code == 202 and r.json() == {"status": "CANCELLATION_REQUESTED"}
        done = _finish(api, sub["status_url"], wait_until)
        assert done["error"] == "Request was cancelled" and done["error_type"] == "request_cancelled"
        result = api.get(sub["response_url"])
        assert result.status_code == 400
        assert result.json() == {"detail": "Request was cancelled", "error_type": "request_cancelled"}
    again = api.put(running["cancel_url"])
    assert again.status_code == 400 and again.json() == {"status": "ALREADY_COMPLETED"}
    # the worker is free again: a new job runs straight away
    srv.latency = 0
    nxt = api.post(f"/{MINI}", json={"prompt": "three", "quality": "low"}).json()
    assert _finish(api, nxt["status_url"], wait_until).get("error") is None


def test_failed_job_ends_completed_with_error(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client], wait_until: Callable[..., Any]
) -> None:
    from falstudio.local import Faults

    srv = make_server(faults=Faults(fail_prompt="forbidden"))
    api = client_for(srv)
    sub = api.post(f"/{MINI}", json={"prompt": "something forbidden"}).json()
    done = _finish(api, sub["status_url"], wait_until)
    assert done["error_type"] == "content_policy_violation" and done["error"]
    result = api.get(sub["response_url"])
    assert result.status_code == 422
    assert result.headers["x-fal-error-type"] == "content_policy_violation"
    [item] = result.json()["detail"]
    assert item["loc"] == ["body", "prompt"] and item["type"] == "content_policy_violation"
    run = api.post(f"/run/{MINI}", json={"prompt": "forbidden fruit"})
    assert run.status_code == 422 and run.headers["x-fal-error-type"] == "content_policy_violation"


def test_auth_is_required_and_never_echoed(server: LocalServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        r = anon.post(f"/{MINI}", json={"prompt": "x"})
        assert r.status_code == 401 and "Authorization header is required" in r.json()["detail"]
        assert r.headers["x-fal-request-id"]
        wrong = "Key wrong-key-123456"
        r = anon.post(f"/{MINI}", json={"prompt": "x"}, headers={"Authorization": wrong})
        assert r.status_code == 401 and "wrong-key-123456" not in r.text and server.key not in r.text
        r = anon.get(f"/{MINI}/requests/x/status", headers={"Authorization": f"Bearer {server.key}"})
        assert r.status_code == 401 and server.key not in r.text
        assert anon.post(f"/run/{MINI}", json={"prompt": "x"}).status_code == 401
        assert anon.put(f"/{MINI}/requests/x/cancel").status_code == 401
        assert anon.get("/").status_code == 200  # the index page is public and holds nothing secret
        assert server.key not in anon.get("/").text


def test_max_queue_length(make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client]) -> None:
    srv = make_server(latency=30, concurrency=1)
    api = client_for(srv)
    subs = [api.post(f"/{MINI}", json={"prompt": "p", "quality": "low"}) for _ in range(3)]
    r = api.post(f"/{MINI}", params={"fal_max_queue_length": "1"}, json={"prompt": "p"})
    assert r.status_code == 429
    for sub in subs:
        api.put(sub.json()["cancel_url"])
