"""The Studio against real local servers: Generate, concurrent jobs, cancel, failures, history, switching."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image as PILImage

from falstudio.client import Client
from falstudio.client.errors import ContentPolicyError
from falstudio.endpoints import get
from falstudio.local import LocalServer
from falstudio.local.faults import Faults
from falstudio.testing import wait_for
from falstudio.widgets.job import JobView
from falstudio.widgets.studio import DEFAULT_PROMPT, Studio, edit_endpoint_for

FORBIDDEN = "forbidden-word"


@pytest.fixture(scope="module")
def slow_server() -> Iterator[LocalServer]:
    """Jobs that stay running long enough to overlap and to be cancelled; one prompt always fails."""
    with LocalServer(port=0, latency=0.5, concurrency=2, faults=Faults(fail_prompt=FORBIDDEN)) as srv:
        yield srv


def studio_for(srv: LocalServer, **options: object) -> Studio:
    return Studio(Client(base_url=srv.url, key=srv.key), **options)  # type: ignore[arg-type]


def test_generate_completes_and_a_thumbnail_appears(server: LocalServer) -> None:
    studio = studio_for(server)
    try:
        assert studio.form.value.prompt == DEFAULT_PROMPT and not studio.form.generate_button.disabled
        job = studio.click_generate()
        assert isinstance(job, JobView) and studio.jobs == [job]
        studio.wait(60)
        assert job.state == "done", job._error.value
        assert len(studio.gallery) == 1
        tile = studio.gallery.tiles[0]
        assert tile.alt == DEFAULT_PROMPT
        assert max(PILImage.open(io.BytesIO(tile.thumbnail)).size) <= 384
        assert dict(tile.caption)["Endpoint"] == "openai/gpt-image-2"
        assert "Estimated cost" in dict(tile.caption)
        assert job.tracked is not None and job.tracked.state.streaming  # GPT Image 2 streams: live previews
        assert any("partial image" in e.message for e in job.logs)
        assert repr(studio) == "Studio(endpoint='openai/gpt-image-2', server='local', jobs=1)"
        assert job.result.images[0].width == 1024 and job.result.images[0].height == 768  # landscape_4_3
    finally:
        studio.close()


def test_two_jobs_run_at_once_without_blocking_and_keep_their_output() -> None:
    faults = Faults(hold={"output"})  # both jobs wait before their output until the test has seen them going
    with LocalServer(port=0, latency=0, concurrency=2, faults=faults) as server:
        _two_jobs(server, faults)


def _two_jobs(server: LocalServer, faults: Faults) -> None:
    studio = studio_for(server, stream=False)  # through the queue: each job has the server's log lines
    try:
        first = studio.click_generate()
        studio.form.value = {"prompt": "a zeppelin above a teacup"}
        second = studio.click_generate()
        assert first is not None and second is not None
        assert not first.done and not second.done  # Generate returned while the jobs are still going
        wait_for(lambda: first.state in ("queued", "running") and second.state in ("queued", "running"))
        assert faults.wait_held("output", count=2)  # both at once: two workers
        faults.release("output", count=2)
        studio.wait(60)
        assert studio.jobs == [second, first]
        assert (first.state, second.state) == ("done", "done")
        assert first.result.request.prompt == DEFAULT_PROMPT
        assert second.result.request.prompt == "a zeppelin above a teacup"
        first_log, second_log = first._log.value, second._log.value
        assert "lighthouse" in first_log and "zeppelin" not in first_log
        assert "zeppelin" in second_log and "lighthouse" not in second_log
        assert sorted(t.alt for t in studio.gallery.tiles) == sorted([DEFAULT_PROMPT, "a zeppelin above a teacup"])
    finally:
        studio.close()


def test_cancel_ends_the_job_cancelled_and_adds_no_image(slow_server: LocalServer) -> None:
    studio = studio_for(slow_server)
    try:
        job = studio.click_generate()
        assert job is not None
        wait_for(lambda: job.state in ("queued", "running"))
        job._cancel.click()
        studio.wait(60)
        assert job.state == "cancelled"
        assert "Cancelled:" in job._error.value
        assert len(studio.gallery) == 0
    finally:
        studio.close()


def test_a_failed_job_shows_the_error_and_its_hint(slow_server: LocalServer) -> None:
    studio = studio_for(slow_server)
    try:
        studio.form.value = {"prompt": f"a {FORBIDDEN} picture"}
        job = studio.click_generate()
        assert job is not None
        studio.wait(60)
        assert job.state == "failed" and isinstance(job.error, ContentPolicyError)
        assert "hint: rephrase the prompt" in job._error.value
        assert len(studio.gallery) == 0
    finally:
        studio.close()


def test_recent_history_and_run_again(server: LocalServer) -> None:
    studio = studio_for(server)
    try:
        assert "No runs yet" in studio._history_box.children[0].value
        studio.form.value = {"prompt": "a teal kite over the dunes", "quality": "low"}
        studio.click_generate()
        studio.wait(60)
        (item,) = studio._history_box.children  # refreshed before wait() returns
        assert "a teal kite over the dunes" in item.children[0].value and "<img" in item.children[0].value
        studio.endpoint = "fal-ai/gpt-image-1.5"
        studio.form.value = {"prompt": "something else"}
        item.children[1].click()  # Run again
        assert studio.endpoint == "openai/gpt-image-2"
        assert studio.form.value.prompt == "a teal kite over the dunes" and studio.form.value.quality == "low"
    finally:
        studio.close()


def test_switching_endpoint_keeps_what_fits_and_shows_the_status(server: LocalServer) -> None:
    studio = studio_for(server)
    try:
        assert studio.endpoint == "openai/gpt-image-2" and studio.status_chip.value == ""
        studio.form.value = {"prompt": "a lighthouse", "quality": "auto", "num_images": 2, "image_size": "1536x1024"}
        studio.picker.value = "fal-ai/gpt-image-1.5"  # no "auto" quality there; sizes are "WxH" strings
        assert studio.form.endpoint_id == "fal-ai/gpt-image-1.5"
        request = studio.form.value
        assert (request.prompt, request.num_images, request.quality) == ("a lighthouse", 2, "high")
        assert request.image_size == "1536x1024"
        assert "retired" in studio.status_chip.value
        tip = studio.status_chip.tooltip
        assert "shut gpt-image-1.5 down on 2026-12-01" in tip and "openai/gpt-image-2" in tip and "retires" not in tip
        assert "offline preview server" in studio.badge.value
        studio.picker.value = "openai/gpt-image-2"  # and back: the size becomes the object again
        assert studio.form.value.payload()["image_size"] == {"width": 1536, "height": 1024}
        assert studio.form.controls["image_size"].size.choice.value == "custom"
    finally:
        studio.close()


def test_the_picker_lists_live_endpoints_first_and_marks_the_others(server: LocalServer) -> None:
    studio = studio_for(server)
    try:
        labels = [label for label, _ in studio.picker.options]
        ids = [value for _, value in studio.picker.options]
        assert ids[:2] == ["openai/gpt-image-2", "openai/gpt-image-2/edit"] and len(ids) == 11
        assert all(label.endswith("(retired)") for label in labels[2:-1]) and "(" not in labels[0]
        assert labels[-1].startswith("Other endpoint…")
        studio.picker.value = "fal-ai/gpt-image-1-mini"  # retired endpoints stay selectable, and work offline
        assert studio.form.endpoint_id == "fal-ai/gpt-image-1-mini" and studio.form.is_valid
        assert "shut gpt-image-1-mini down" in studio.form.header.value
    finally:
        studio.close()


def test_use_as_edit_input_switches_to_the_edit_endpoint(server: LocalServer) -> None:
    studio = studio_for(server)
    try:
        studio.click_generate()
        studio.wait(60)
        studio.gallery._handle_custom_msg({"event": "use", "tile": f"anywidget:{studio.gallery.tiles[0].model_id}"}, [])
        assert studio.endpoint == "openai/gpt-image-2/edit"
        request = studio.form.value
        assert request.prompt == DEFAULT_PROMPT and len(request.image_urls) == 1
        assert request.image_urls[0].startswith("data:image/png")
    finally:
        studio.close()


def test_edit_endpoint_for_matches_model_and_billing() -> None:
    pairs = {
        "openai/gpt-image-2": "openai/gpt-image-2/edit",
        "fal-ai/gpt-image-1-mini": "fal-ai/gpt-image-1-mini/edit",
        "fal-ai/gpt-image-1/text-to-image": "fal-ai/gpt-image-1/edit-image",
        "fal-ai/gpt-image-1/text-to-image/byok": "fal-ai/gpt-image-1/edit-image/byok",
        "fal-ai/gpt-image-1.5": "fal-ai/gpt-image-1.5/edit",
        "fal-ai/gpt-image-1.5/edit": "fal-ai/gpt-image-1.5/edit",
    }
    for source, edit in pairs.items():
        found = edit_endpoint_for(get(source))
        assert found is not None and found.id == edit


def test_static_fallback_and_unknown_endpoint(server: LocalServer) -> None:
    studio = studio_for(server)
    try:
        studio.click_generate()
        studio.wait(60)
        bundle = studio._repr_mimebundle_()
        html = bundle["text/html"]
        assert bundle["text/plain"] == "Studio(endpoint='openai/gpt-image-2', server='local', jobs=1)"
        assert "<script" not in html and "<style" not in html and " id=" not in html
        assert "offline preview server" in html and "a lighthouse on a cliff at sunset" in html
        assert html.count("<img ") >= 1 and len(html) < 100_000
    finally:
        studio.close()
    with pytest.raises(LookupError, match="Did you mean 'fal-ai/gpt-image-1-mini'"):
        Studio(object(), endpoint="fal-ai/gpt-image-1-mni")


def test_badge_says_fal_when_a_key_is_set_and_keys_carry_across_byok_endpoints() -> None:
    png = io.BytesIO()
    PILImage.new("RGB", (64, 64), (10, 200, 30)).save(png, "PNG")
    with Client(key="test-id:not-real") as client:
        studio = Studio(client, endpoint="fal-ai/gpt-image-1/text-to-image/byok")
        try:
            assert "fal.ai" in studio.badge.value and "offline" not in studio.badge.value
            assert repr(studio).endswith("server='fal', jobs=0)")
            studio.form.set_secret("openai_api_key", "sk-test-SECRET-1")
            assert studio.form.is_valid
            studio.use_as_input(png.getvalue())
            assert studio.endpoint == "fal-ai/gpt-image-1/edit-image/byok"
            assert studio.form.controls["openai_api_key"].get().get_secret_value() == "sk-test-SECRET-1"
            assert studio.form.is_valid and len(studio.form.value.image_urls) == 1
            html = studio._repr_mimebundle_()["text/html"]
            assert "sk-test-SECRET-1" not in html and "sk-test-SECRET-1" not in repr(studio)
        finally:
            studio.close()


def test_live_previews_show_the_picture_forming_in_the_gallery(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from falstudio.endpoints import registry

    mini = "fal-ai/gpt-image-1-mini"
    monkeypatch.setitem(registry.REGISTRY, mini, dataclasses.replace(registry.REGISTRY[mini], streaming=True))  # type: ignore[arg-type]
    faults = Faults(hold={"output"})  # the run ends when the test has seen it forming
    with LocalServer(port=0, latency=0, faults=faults) as server:
        studio = studio_for(server, history=False)
        try:
            assert studio.live_previews.value and studio.live_previews.layout.display is None
            studio.form.value = {"prompt": "a red barn at dusk", "quality": "high"}
            job = studio.click_generate()
            assert job is not None
            wait_for(lambda: any("Forming" in dict(t.caption) for t in studio.gallery.tiles))
            assert not job.done and len(studio.gallery) == 1
            faults.release("output", count=2)  # this run's, and the queued one's below
            studio.wait(60)
            assert job.state == "done" and job.tracked is not None and job.tracked.state.streaming
            [tile] = studio.gallery.tiles
            assert "Forming" not in dict(tile.caption) and tile.image is job.result.images[0]

            studio.live_previews.value = False  # the queue: no partial images
            second = studio.click_generate()
            studio.wait(60)
            assert second is not None and second.tracked is not None and not second.tracked.state.streaming
        finally:
            studio.close()


def live_widgets() -> int:
    import gc

    from ipywidgets.widgets.widget import _instances

    gc.collect()
    return sum(w.comm is not None for w in list(_instances.values()))


def test_the_current_job_leads_and_finished_jobs_become_rows_with_their_widgets_closed(server: LocalServer) -> None:
    studio = studio_for(server, stream=False)
    try:
        assert studio._stage.children == (studio._no_job,) and studio.jobs_toggle.description == "Jobs (0)"
        studio.form.value = {"prompt": "a red kite", "quality": "low"}
        first = studio.click_generate()
        studio.wait(60)
        assert first is not None and studio._stage.children == (first,)  # on the right, still live
        assert studio.gallery.lead == 1 and studio.gallery.tiles[0].alt == "a red kite"
        assert first._picture is False and first._preview_box not in first.children  # the picture: once, large
        studio.form.value = {"prompt": "a blue whale", "quality": "low"}
        second = studio.click_generate()
        studio.wait(60)
        assert studio._stage.children == (second,) and studio.gallery.lead == 1
        assert [t.alt for t in studio.gallery.tiles] == ["a blue whale", "a red kite"]
        assert first.comm is None and first._status.comm is None and first._status.layout.comm is None
        assert first.state == "done" and first.result.images  # still readable from Python
        rows = studio._jobs_box.rows.value
        assert "a red kite" in rows and "Done" in rows and "a blue whale" not in rows
        assert "studio.jobs" not in rows and studio.jobs_toggle.description == "Jobs (2)"
        assert studio._jobs_box.layout.display == "none"
        studio.jobs_toggle.value = True
        assert studio._jobs_box.layout.display == "flex"
    finally:
        studio.close()


def test_a_long_session_keeps_widgets_and_state_flat(server: LocalServer) -> None:
    studio = studio_for(server, stream=False)
    try:
        counts = []
        for n in range(1, 21):
            studio.generate({"prompt": f"a fox number {n}", "quality": "low"})
            studio.wait(60)
            if n in (14, 20):
                counts.append(live_widgets())
        assert counts[0] == counts[1], counts  # flat once the gallery's strip is full (12 images)
        assert len(studio.jobs) == 20 and len(studio.gallery) == 12
        assert studio._jobs_box.rows.value.count('role="listitem"') == 12 and "and 7 earlier finished jobs" in (
            studio._jobs_box.rows.value
        )
    finally:
        studio.close()


def test_a_streamed_offline_run_says_what_was_not_drawn(server: LocalServer) -> None:
    studio = studio_for(server, history=False)
    try:
        studio.form.value = {"prompt": "a lighthouse and a dragon at sunset"}  # no dragon offline
        job = studio.click_generate()  # GPT Image 2 streams
        studio.wait(60)
        assert job is not None and job.tracked is not None and job.tracked.state.streaming
        assert "Not drawn offline (no picture for these words): dragon" in job._log.value
        assert any(e.message.startswith("Not drawn offline") for e in job.logs)
        assert sum("partial image 1 received" in e.message for e in job.logs) == 1  # nothing twice
    finally:
        studio.close()
