"""A long-running local server stays bounded: stored files within an age and a size limit, finished jobs within a
count and an age limit, and `falstudio serve` takes the limits as flags (bench/load_local.py shows RSS and disk
flat over 5,000 jobs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from falstudio.cli import build_parser
from falstudio.local import LocalServer
from falstudio.local.storage import Storage

MINI = "fal-ai/gpt-image-1-mini"


def test_storage_drops_the_oldest_beyond_its_size_but_never_the_newest(tmp_path: Path) -> None:
    storage = Storage(tmp_path, max_bytes=2500)
    files = [storage.put(bytes(1000), "image/png", f"{i}.png") for i in range(4)]
    assert [storage.get(f.id) is not None for f in files] == [False, False, True, True]
    assert storage.total_bytes == 2000 and len(storage) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [files[2].id, f"{files[2].id}.json", files[3].id, f"{files[3].id}.json"]
    )
    huge = storage.put(bytes(5000), "image/png", "huge.png")  # bigger than the limit: kept, alone
    assert storage.get(huge.id) is not None and len(storage) == 1


def test_storage_drops_files_past_their_age_and_remembers_a_kept_folder(tmp_path: Path) -> None:
    storage = Storage(tmp_path, max_age=60)
    old = storage.put(b"old", "image/png")
    assert storage.prune(now=time.time() + 30) == 0
    new = storage.put(b"new", "image/png")
    reopened = Storage(tmp_path, max_age=60)  # a kept storage_dir: files of an earlier run are indexed
    assert reopened.get(old.id) == old and reopened.total_bytes == 6
    assert storage.prune(now=time.time() + 61) == 2
    assert storage.get(old.id) is None and storage.get(new.id) is None and not any(tmp_path.iterdir())


def test_a_server_keeps_a_bounded_job_table_and_storage(make_server: Callable[..., LocalServer]) -> None:
    srv = make_server(max_jobs=3, max_storage_bytes=1)  # one file at a time
    with httpx.Client(base_url=srv.url, headers={"Authorization": f"Key {srv.key}"}, timeout=60) as api:
        done = []
        for i in range(6):
            submitted = api.post(f"/{MINI}", json={"prompt": f"fox {i}", "quality": "low"}).json()
            while api.get(submitted["status_url"]).json()["status"] != "COMPLETED":
                time.sleep(0.02)
            done.append((submitted, api.get(submitted["response_url"]).json()["images"][0]["url"]))
        backend = srv.app.state.backend
        assert len(backend.queue.jobs()) == 3 and len(backend.storage) == 1
        (first, first_image), (last, last_image) = done[0], done[-1]
        assert api.get(first["status_url"]).status_code == 404  # forgotten, like an expired fal request
        assert api.get(first_image).status_code == 404
        assert api.get(last["status_url"]).status_code == 200 and api.get(last_image).status_code == 200


def test_an_idle_server_expires_old_jobs_and_files(make_server: Callable[..., LocalServer]) -> None:
    srv = make_server(retention_seconds=0.4)
    with httpx.Client(base_url=srv.url, headers={"Authorization": f"Key {srv.key}"}, timeout=60) as api:
        # The run route answers with the output as the job ends: no poll can come after it expired (a loaded machine)
        ran = api.post(f"/run/{MINI}", json={"prompt": "fox", "quality": "low"})
        image = ran.json()["images"][0]["url"]
        status_url = f"/{MINI}/requests/{ran.headers['x-fal-request-id']}/status"
        deadline = time.monotonic() + 30
        while api.get(status_url).status_code != 404:
            assert time.monotonic() < deadline, "the finished job was never forgotten"
            time.sleep(0.05)
        assert api.get(image).status_code == 404 and len(srv.app.state.backend.storage) == 0


def test_serve_takes_the_limits_as_flags() -> None:
    args = build_parser().parse_args(
        ["serve", "--retention-hours", "2", "--max-storage-mb", "64", "--max-jobs", "500", "--allow-host", "box"]
    )
    assert (args.retention_hours, args.max_storage_mb, args.max_jobs, args.allow_host) == (2.0, 64.0, 500, ["box"])
    defaults = build_parser().parse_args(["serve"])
    assert (defaults.retention_hours, defaults.max_storage_mb, defaults.max_jobs) == (24.0, 1024.0, 1000)
    for bad in (["--max-jobs", "0"], ["--retention-hours", "nan"], ["--max-storage-mb", "inf"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["serve", *bad])
