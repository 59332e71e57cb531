"""The history store fed with recorder events directly: layout, atomicity, filtering, corruption."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from pathlib import Path

import pytest

import falstudio as fs
from falstudio._internal.images import to_data_uri
from falstudio.client.recorder import Sending, Unanswered
from falstudio.history import HistoryStore, HistoryWarning, RunRecord, default_recorder, history_dir
from falstudio.history._paths import user_data_dir

from ._helpers import ENDPOINT, finished, png, submitted


@pytest.fixture
def store() -> HistoryStore:
    return HistoryStore()


def test_submitted_then_finished_keeps_one_record_with_images_on_disk(store: HistoryStore) -> None:
    store.submitted(submitted("req-1", "a red fox"))
    [record] = fs.history()
    assert (record.state, record.endpoint, record.request_id, record.mode) == ("queued", ENDPOINT, "req-1", "local")
    assert record.images == [] and record.in_flight and record.cost_estimate == "≤ $0.20"

    first, second = png((1, 2, 3)), png((4, 5, 6), size=(20, 10))
    store.finished(finished("req-1", [first, second]))
    [record] = fs.history()
    assert record.state == "done" and not record.in_flight
    assert (record.queue_seconds, record.inference_seconds) == (0.5, 1.25)
    assert record.latency_seconds is not None and record.latency_seconds >= 0
    assert [i.sha256 for i in record.images] == [hashlib.sha256(b).hexdigest() for b in (first, second)]
    sizes = [(i.width, i.height, i.content_type) for i in record.images]
    assert sizes == [(48, 32, "image/png"), (20, 10, "image/png")]
    assert record.images[0].path == f"images/{record.images[0].sha256}.png"
    assert record.images[0].url == "http://127.0.0.1:9/files/req-1-0.png"
    assert record.image_bytes() == [first, second]
    assert [im.size for im in record.images_pil()] == [(48, 32), (20, 10)]
    assert len(list(store.records_dir.iterdir())) == 1


def test_writes_leave_no_temp_files_and_valid_json(store: HistoryStore) -> None:
    for i in range(3):
        store.submitted(submitted(f"req-{i}"))
        store.finished(finished(f"req-{i}", [png((i, i, i))]))
    files = sorted(p.name for p in store.root.rglob("*") if p.is_file())
    assert not [f for f in files if f.endswith(".tmp") or f.startswith(".")]
    for path in store.records_dir.iterdir():
        assert json.loads(path.read_text(encoding="utf-8"))["state"] == "done"


def test_identical_images_are_stored_once(store: HistoryStore) -> None:
    same = png()
    for rid in ("a", "b"):
        store.submitted(submitted(rid))
        store.finished(finished(rid, [same, same]))
    assert len(list(store.images_dir.iterdir())) == 1
    assert all(len(r.image_paths()) == 2 for r in fs.history())


def test_newest_first_and_filters(store: HistoryStore) -> None:
    store.submitted(submitted("old", "A Red fox", at=1_000))
    store.submitted(submitted("mid", "a blue whale", at=2_000, endpoint="fal-ai/gpt-image-1-mini"))
    store.submitted(submitted("new", "a red panda", at=3_000))
    store.finished(finished("new"))
    assert [r.request_id for r in fs.history()] == ["new", "mid", "old"]
    assert [r.request_id for r in fs.history(text="RED")] == ["new", "old"]
    assert [r.request_id for r in fs.history(endpoint="mini")] == ["mid"]
    assert [r.request_id for r in fs.history(state="queued")] == ["mid", "old"]
    assert [r.request_id for r in fs.history(state=["done", "lost"])] == ["new"]
    assert [r.request_id for r in fs.history(state="submitted")] == ["mid", "old"]  # the older words still filter
    assert [r.request_id for r in fs.history(state=["completed", "lost"])] == ["new"]
    assert [r.request_id for r in fs.history(limit=2)] == ["new", "mid"]
    assert [r.request_id for r in fs.history().filter(text="red", state="submitted")] == ["old"]
    assert [r.request_id for r in fs.history().in_flight] == ["mid", "old"]
    assert fs.history().get("mid").prompt == "a blue whale"
    assert isinstance(fs.history()[:2], fs.history().__class__) and len(fs.history()[:2]) == 2
    with pytest.raises(ValueError, match="state must be one of submitting, queued, done"):
        fs.history(state="finished")
    with pytest.raises(KeyError, match="nope"):
        fs.history().get("nope")


def test_corrupt_record_files_are_skipped_with_a_warning(store: HistoryStore) -> None:
    store.submitted(submitted("good-1", at=1_000))
    store.submitted(submitted("good-2", at=3_000))
    store.records_dir.joinpath("20990101T000000.000000Z-truncated.json").write_text('{"endpoint": "fal-ai/gpt-')
    store.records_dir.joinpath("20990101T000001.000000Z-shape.json").write_text('{"endpoint": 3}')
    store.records_dir.joinpath("20990101T000002.000000Z-binary.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.warns(HistoryWarning) as caught:
        records = fs.history()
    assert [r.request_id for r in records] == ["good-2", "good-1"]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3
    for name in ("truncated.json", "shape.json", "binary.json"):
        assert any(name in m and "not a readable run record" in m for m in messages)


def test_temp_files_of_an_interrupted_write_are_ignored(store: HistoryStore) -> None:
    store.submitted(submitted("ok"))
    store.records_dir.joinpath(".20990101T000000.000000Z-x.json.abc.tmp").write_text('{"half": ')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [r.request_id for r in fs.history()] == ["ok"]


def test_finished_without_submitted_and_late_submitted(store: HistoryStore) -> None:
    store.finished(finished("orphan", state="failed", images=[], output=None, error="boom", error_type="server"))
    store.submitted(submitted("orphan"))  # arrives late: must not turn the record back to in-flight
    [record] = fs.history()
    assert (record.state, record.error, record.error_type, record.images) == ("failed", "boom", "server", [])


def test_input_data_uris_move_to_files_and_come_back_for_run_again(store: HistoryStore) -> None:
    source = png((9, 9, 9))
    uri = to_data_uri(source)
    store.submitted(
        submitted(
            "edit",
            endpoint="fal-ai/gpt-image-1.5/edit",
            request={"prompt": "make it pop", "image_urls": [uri, "https://x/y.png", uri]},
        )
    )
    raw = next(store.records_dir.iterdir()).read_text(encoding="utf-8")
    assert "base64" not in raw and len(raw) < 2_000
    [record] = fs.history()
    assert record.request == {"prompt": "make it pop", "image_urls": [uri, "https://x/y.png", uri]}
    assert len(list(store.images_dir.iterdir())) == 1


def test_file_references_cannot_escape_the_images_folder(store: HistoryStore, tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(png())
    store.submitted(submitted("evil", request={"prompt": "x", "image_urls": [f"falstudio-history:../../{outside}"]}))
    [record] = fs.history()
    assert record.request["image_urls"][0].startswith("falstudio-history:")


def test_sync_mode_output_data_uris_are_saved_as_files(store: HistoryStore) -> None:
    image = png((7, 7, 7))
    store.submitted(submitted("sync", sync_mode=True))
    output = {"images": [{"url": to_data_uri(image), "content_type": "image/png", "width": 48, "height": 32}]}
    store.finished(finished("sync", images=[], output=output))
    [record] = fs.history()
    assert record.sync_mode and not record.recoverable
    assert record.images[0].url is None and record.image_bytes() == [image]


def test_mark_lost_keeps_the_reason(store: HistoryStore) -> None:
    record = store.record_submitted(submitted("gone"))
    store.mark_lost(record, "the local server at http://127.0.0.1:9 is not running any more")
    [record] = fs.history()
    assert record.state == "lost" and "not running" in (record.error or "")


def test_recorder_never_raises_into_the_client(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the history folder should be")
    store = HistoryStore(blocker)
    with pytest.warns(HistoryWarning, match="could not record the submission of 'r'"):
        store.submitted(submitted("r"))
    with pytest.warns(HistoryWarning, match="could not record the result of 'r'"):
        store.finished(finished("r"))


def test_location_argument_env_and_switch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FALSTUDIO_HISTORY_DIR", str(tmp_path / "from-env"))
    assert history_dir() == tmp_path / "from-env"  # read at call time
    assert history_dir(tmp_path / "explicit") == tmp_path / "explicit"
    recorder = default_recorder()
    assert recorder is not None and recorder.root == tmp_path / "from-env"
    HistoryStore(tmp_path / "explicit").submitted(submitted("x"))
    assert len(fs.history(path=tmp_path / "explicit")) == 1 and len(fs.history()) == 0
    for off in ("0", "false", "OFF"):
        monkeypatch.setenv("FALSTUDIO_HISTORY", off)
        assert default_recorder() is None
    monkeypatch.setenv("FALSTUDIO_HISTORY", "1")
    assert default_recorder() is not None


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {"XDG_DATA_HOME": "/xdg"}, Path("/xdg/falstudio")),
        ("linux", {}, Path.home() / ".local" / "share" / "falstudio"),
        ("darwin", {}, Path.home() / "Library" / "Application Support" / "falstudio"),
        ("win32", {"LOCALAPPDATA": "/lad"}, Path("/lad/falstudio")),
    ],
)
def test_user_data_dir_per_platform(
    monkeypatch: pytest.MonkeyPatch, platform: str, env: dict[str, str], expected: Path
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    for var in ("XDG_DATA_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert user_data_dir() == expected
    monkeypatch.delenv("FALSTUDIO_HISTORY_DIR")
    assert history_dir() == expected / "history"


def test_odd_request_ids_get_safe_unique_file_names(store: HistoryStore) -> None:
    for rid in ("a/b", "a_b", "../x", "a:b"):
        store.submitted(submitted(rid))
        store.finished(finished(rid))
    assert sorted(r.request_id for r in fs.history()) == sorted(["a/b", "a_b", "../x", "a:b"])
    assert all(p.parent == store.records_dir for p in store.root.rglob("*.json"))
    assert {r.state for r in fs.history()} == {"done"}


def test_a_record_outlives_its_process_reload(store: HistoryStore) -> None:
    store.submitted(submitted("p"))
    # a second store on the same folder (another kernel) finishes it
    HistoryStore(os.environ["FALSTUDIO_HISTORY_DIR"]).finished(finished("p"))
    [record] = fs.history()
    assert record.state == "done" and isinstance(record, RunRecord)


def test_fs_history_is_callable_before_and_after_the_package_is_imported() -> None:
    import subprocess

    code = (
        "import falstudio as fs\n"
        "first = fs.history()\n"
        "import falstudio.history\n"
        "assert callable(falstudio.history)\n"
        "print(len(first), len(falstudio.history(limit=1)), type(fs.history()).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["0", "0", "History"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"limit": "5"}, ValueError, "limit must be a whole number, 0 or more; got '5'"),
        ({"limit": -1}, ValueError, "limit must be a whole number"),
        ({"endpoint": 15}, TypeError, r"endpoint must be a string \(part of the endpoint id\), not int"),
        ({"text": ["fox"]}, TypeError, r"text must be a string \(part of the prompt\), not list"),
        ({"state": 3}, ValueError, r"state must be one of submitting, .* got 3"),
        ({"state": ["completed", "finished"]}, ValueError, "got 'finished'"),
    ],
)
def test_bad_filters_name_the_argument_and_what_it_takes(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        fs.history(**kwargs)


@pytest.mark.parametrize("damage", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_thumbnail_of_a_damaged_image_file_is_none_as_documented(store: HistoryStore, damage: bytes) -> None:
    store.submitted(submitted("req-thumb"))
    store.finished(finished("req-thumb", [png()]))
    [record] = fs.history()
    record.image_paths()[0].write_bytes(damage)  # a disk error, a sync tool, a user's editor...
    assert record.thumbnail(0) is None
    record.image_paths()[0].unlink()
    assert record.thumbnail(0) is None and record.thumbnail(5) is None


def _sending(intent_id: str, at: float = 1_700_000_000.0) -> Sending:
    return Sending(
        endpoint=ENDPOINT,
        intent_id=intent_id,
        request={"prompt": "a fox", "openai_api_key": "***"},
        base_url="http://127.0.0.1:9",
        mode="local",
        sent_at=at,
        writer="elsewhere:1",
        cost_estimate="≤ $0.20",
    )


def test_a_request_is_recorded_before_sending_then_completed_in_place(store: HistoryStore) -> None:
    store.sending(_sending("i1"))
    [early] = fs.history()
    assert early.unconfirmed and early.in_flight and early.prompt == "a fox" and early.intent_id == "i1"
    [intent_file] = store.record_files()
    saved = intent_file.read_bytes()
    store.submitted(submitted("req-9", at=1_700_000_001.0, intent_id="i1"))
    [record] = fs.history()
    assert record.request_id == "req-9" and record.submitted_at == 1_700_000_000.0 and record.intent_id == "i1"
    assert not intent_file.exists()
    intent_file.write_bytes(saved)  # as if killed between writing the completed record and removing this one
    assert [r.request_id for r in fs.history()] == ["req-9"]


def test_what_became_of_an_unanswered_request(store: HistoryStore) -> None:
    store.sending(_sending("refused"))
    store.unanswered(Unanswered(ENDPOINT, "refused", may_have_run=False, reason="AuthError: not authorised"))
    assert len(fs.history()) == 0  # it certainly never ran: no record
    store.sending(_sending("lost-reply"))
    store.unanswered(Unanswered(ENDPOINT, "lost-reply", may_have_run=True, reason="ServerError: HTTP 503"))
    [record] = fs.history()
    assert record.state == "lost" and record.error_type == "unconfirmed" and record.request_id is None
    assert record.error is not None and "may have been submitted at " in record.error and "HTTP 503" in record.error
