"""Code ported from fal-client runs unchanged: results read like its dict, its request options and defaults
(against the real local server over loopback HTTP)."""

from __future__ import annotations

import json

import pytest

from falstudio.client import Client

T2I = "fal-ai/gpt-image-1-mini"
LOW = {"prompt": "a red square on a white table", "quality": "low", "image_size": "1024x1024"}


@pytest.fixture
def client(server):
    with Client(server.key, base_url=server.url, history=False) as c:
        yield c


def test_result_reads_like_fal_clients_dict(client):
    result = client.subscribe(T2I, LOW)
    url = result["images"][0]["url"]
    assert url == result.images[0].url
    assert result.get("seed") is None and result.get("seed", 7) == 7
    assert "images" in result and "seed" not in result
    assert list(result) == list(result.keys()) == list(result.data)
    plain = dict(result)
    assert plain == result.data and isinstance(plain["images"][0], dict)
    assert json.loads(json.dumps(plain)) == plain
    assert json.loads(json.dumps(result, default=dict)) == plain
    assert len(result) == len(result.data) and dict(result.items()) == plain
    with pytest.raises(KeyError):
        result["nope"]
    assert result.images[0].to_pil().size == (1024, 1024)  # typed access alongside


def test_run_result_reads_like_a_dict_too(client):
    out = client.run(T2I, LOW)
    assert out["images"][0]["width"] == 1024 and out.images[0].width == 1024


def test_fal_queue_run_host_alone_moves_the_queue_like_fal_client(monkeypatch):
    from falstudio.client._protocol import Hosts

    monkeypatch.delenv("FAL_RUN_HOST", raising=False)
    monkeypatch.setenv("FAL_QUEUE_RUN_HOST", "queue.staging.example")
    hosts = Hosts.fal()
    assert hosts.queue == "https://queue.staging.example" and hosts.run == "https://fal.run"
    monkeypatch.setenv("FAL_RUN_HOST", "run.staging.example")
    monkeypatch.delenv("FAL_QUEUE_RUN_HOST")
    assert Hosts.fal().queue == "https://queue.run.staging.example"
