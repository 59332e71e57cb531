"""A class rehearses offline: the local server's Platform API mints keys it then accepts, reports usage per key
alias from its job log, revokes them (then refuses them); its replies have fal's shapes."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from falstudio.cli import main
from falstudio.client import Client, KeysFile, KeysPartlyCreatedError, Platform, RetryPolicy, errors, numbered_aliases
from falstudio.local import LocalServer

from ._fal_platform import check_shape


@pytest.fixture
def classroom() -> Iterator[LocalServer]:
    with LocalServer(port=0, latency=0, concurrency=3) as server:
        yield server


def test_three_keys_a_request_each_usage_per_alias_then_revoked_and_refused(classroom: LocalServer) -> None:
    admin = Platform(key=classroom.key, base_url=f"{classroom.url}/v1")
    keys = admin.create_keys(numbered_aliases(["student-01"], 3))
    assert [k.alias for k in keys] == ["student-01", "student-02", "student-03"]
    assert "***" in repr(keys[0]) and keys[0].key.reveal().split(":")[1] not in repr(keys)
    assert {k.alias for k in admin.list_keys()} == {"student-01", "student-02", "student-03"}
    for n, key in enumerate(keys):
        with Client(key=key.key.reveal(), base_url=classroom.url, history=False) as student:
            quality = "medium" if n == 2 else "low"
            assert student.subscribe("openai/gpt-image-2", {"prompt": "a fox", "quality": quality}).images
    report = {a.alias: a for a in admin.usage("2h")}
    assert set(report) == {"student-01", "student-02", "student-03"}
    assert report["student-01"].cost == report["student-02"].cost > 0
    assert report["student-03"].cost > report["student-01"].cost  # medium costs more: priced from the table
    assert report["student-01"].lines[0].endpoint_id == "openai/gpt-image-2"
    revoked = admin.revoke("student-*")
    assert len(revoked) == 3 and admin.list_keys() == []
    with (
        Client(key=keys[0].key.reveal(), base_url=classroom.url, history=False) as student,
        pytest.raises(errors.AuthError),
    ):
        student.subscribe("openai/gpt-image-2", {"prompt": "a fox", "quality": "low"})


def test_a_students_key_is_not_an_admin_key(classroom: LocalServer) -> None:
    admin = Platform(key=classroom.key, base_url=f"{classroom.url}/v1")
    [key] = admin.create_keys(["student-01"])
    student = Platform(key=key.key.reveal(), base_url=f"{classroom.url}/v1")
    with pytest.raises(errors.AuthError, match="Access denied") as caught:
        student.create_keys(["another"])
    assert caught.value.status_code == 403 and "ADMIN" in str(caught.value)
    assert student.prices(["openai/gpt-image-2"])[0].unit == "units"  # an API key reads prices


def test_the_offline_platform_api_answers_in_fals_shapes(classroom: LocalServer) -> None:
    base = f"{classroom.url}/v1"
    admin = {"Authorization": f"Key {classroom.key}"}
    first = httpx.get(f"{base}/models", params={"limit": 3, "expand": "openapi-3.0"})  # anonymous allowed
    check_shape("/models", "get", 200, first.json())
    assert first.json()["has_more"] and first.json()["next_cursor"] == "Mg=="
    assert all(m["openapi"]["openapi"].startswith("3.") for m in first.json()["models"])
    rest = httpx.get(f"{base}/models", params={"limit": 3, "cursor": "Mg=="}).json()
    assert {m["endpoint_id"] for m in rest["models"]}.isdisjoint(m["endpoint_id"] for m in first.json()["models"])
    found = httpx.get(f"{base}/models", params={"q": "mini", "status": "deprecated"}).json()
    assert found["models"] and all("mini" in m["endpoint_id"] for m in found["models"])
    unknown = httpx.get(f"{base}/models", params=[("endpoint_id", "openai/gpt-image-2"), ("endpoint_id", "no/such")])
    assert unknown.json()["models"][1] == {"endpoint_id": "no/such"}
    check_shape("/models", "get", 200, unknown.json())
    bad = httpx.get(f"{base}/models", params={"cursor": "%%%"})
    check_shape("/models", "get", 400, bad.json())
    refused = httpx.get(f"{base}/models/pricing", params={"endpoint_id": "openai/gpt-image-2"})
    assert refused.status_code == 401
    check_shape("/models/pricing", "get", 401, refused.json())
    prices = httpx.get(f"{base}/models/pricing", params={"endpoint_id": "openai/gpt-image-2"}, headers=admin)
    check_shape("/models/pricing", "get", 200, prices.json())
    body = {"estimate_type": "historical_api_price", "endpoints": {"openai/gpt-image-2": {"call_quantity": 10}}}
    estimate = httpx.post(f"{base}/models/pricing/estimate", json=body, headers=admin)
    check_shape("/models/pricing/estimate", "post", 200, estimate.json())
    assert estimate.json()["total_cost"] == pytest.approx(1.5)  # 10 × $0.15: GPT Image 2 high at 1024x768 (fal's table)
    created = httpx.post(f"{base}/keys", json={"alias": "student-01"}, headers=admin)
    assert created.status_code == 201
    check_shape("/keys", "post", 201, created.json())
    listed = httpx.get(f"{base}/keys", headers=admin)
    check_shape("/keys", "get", 200, listed.json())
    usage = httpx.get(f"{base}/models/usage", params=[("expand", "summary"), ("expand", "auth_method")], headers=admin)
    check_shape("/models/usage", "get", 200, usage.json())
    gone = httpx.delete(f"{base}/keys/{created.json()['key_id']}", headers=admin)
    assert gone.status_code == 204 and httpx.get(f"{base}/keys", headers=admin).json()["keys"] == []


def test_the_cli_writes_secrets_only_to_the_file(
    classroom: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAL_KEY", classroom.key)
    monkeypatch.setenv("FALSTUDIO_PLATFORM_URL", f"{classroom.url}/v1")
    out = tmp_path / "class.csv"
    assert main(["keys", "create", "--alias", "student-01", "--count", "3", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["alias"] for r in rows] == ["student-01", "student-02", "student-03"]
    assert os.stat(out).st_mode & 0o077 == 0  # only its owner reads it
    assert main(["keys", "create", "--alias", "x", "--out", str(out)]) == 1  # never overwritten
    assert main(["keys", "list"]) == 0
    with Client(key=rows[1]["key"], base_url=classroom.url, history=False) as student:
        student.subscribe("openai/gpt-image-2", {"prompt": "a fox", "quality": "low"})
    assert main(["usage", "--since", "2h"]) == 0
    assert main(["keys", "revoke", "--alias", "student-*"]) == 0
    printed = capsys.readouterr()
    for row in rows:
        assert row["key"].split(":")[1] not in printed.out + printed.err
    # GPT Image 2 low at 1024x768 is $0.01 in fal's table, plus the prompt's few tokens
    assert "student-02" in printed.out and "$0.0101" in printed.out and "revoked 3 keys" in printed.out


@pytest.mark.parametrize("quantity", ["Infinity", "NaN", "-1", "0", "1e300", "true"])
def test_the_offline_estimate_refuses_quantities_that_are_not_one(classroom: LocalServer, quantity: str) -> None:
    body = '{"estimate_type":"unit_price","endpoints":{"openai/gpt-image-2":{"unit_quantity":' + quantity + "}}}"
    reply = httpx.post(
        f"{classroom.url}/v1/models/pricing/estimate",
        content=body,
        headers={"Authorization": f"Key {classroom.key}", "content-type": "application/json"},
    )
    assert reply.status_code == 400 and "unit_quantity" in reply.json()["error"]["message"]
    check_shape("/models/pricing/estimate", "post", 400, reply.json())


def test_without_a_key_the_platform_api_is_the_embedded_offline_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FALSTUDIO_PLATFORM_URL")
    platform = Platform()  # like Client(): no key, so the embedded offline server
    assert platform.base_url.startswith("http://127.0.0.1:") and platform.base_url.endswith("/v1")
    found = {e.id: e for e in platform.search("gpt image 2")}
    assert found["openai/gpt-image-2"].spec is not None and found["openai/gpt-image-2"].status == "active"


def test_keys_made_before_a_failure_are_kept(tmp_path: Path) -> None:
    made = 0

    def fal(request: httpx.Request) -> httpx.Response:  # fal creates two keys, then rate-limits
        nonlocal made
        if made == 2:
            return httpx.Response(429, json={"error": {"type": "rate_limited", "message": "Rate limit exceeded"}})
        made += 1
        return httpx.Response(
            201, json={"key_id": f"id{made}", "key_secret": f"secret{made}", "key": f"id{made}:secret{made}"}
        )

    platform = Platform(
        "admin:key",
        base_url="https://api.fal.test/v1",
        transport=httpx.MockTransport(fal),
        retry=RetryPolicy(max_attempts=1),
    )
    with (
        KeysFile(tmp_path / "keys.csv") as file,
        pytest.raises(KeysPartlyCreatedError, match="created 2 of 3 keys") as caught,
    ):
        platform.create_keys(["a", "b", "c"], on_created=file.add)
    assert [k.alias for k in caught.value.created] == ["a", "b"]
    rows = list(csv.DictReader((tmp_path / "keys.csv").open()))
    assert [(r["alias"], r["key"]) for r in rows] == [("a", "id1:secret1"), ("b", "id2:secret2")]
    assert "secret" not in str(caught.value)
