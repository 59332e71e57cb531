"""How the history shows itself: a short deterministic text form and a small HTML gallery."""

from __future__ import annotations

import falstudio as fs
from falstudio.history import HistoryStore
from falstudio.history._display import SHOWN

from ._helpers import finished, png, submitted


def _fill(store: HistoryStore, prefix: str, at: float) -> None:
    store.submitted(submitted(f"{prefix}-1", "a <b>bold</b> fox & co", at=at))
    store.finished(finished(f"{prefix}-1", [png((250, 0, 0)), png((0, 250, 0))]))
    store.submitted(submitted(f"{prefix}-2", "still running", at=at + 1, sync_mode=True))
    store.submitted(submitted(f"{prefix}-3", "refused", at=at + 2))
    store.finished(
        finished(
            f"{prefix}-3",
            [],
            state="failed",
            output=None,
            error="content policy violation",
            error_type="content_policy_violation",
        )
    )


def test_text_form_is_short_and_free_of_ids_and_times(tmp_path) -> None:
    _fill(HistoryStore(tmp_path / "one"), "aaa", at=1_000)
    _fill(HistoryStore(tmp_path / "two"), "bbb", at=2_000_000)
    first, second = repr(fs.history(path=tmp_path / "one")), repr(fs.history(path=tmp_path / "two"))
    assert (
        first
        == second
        == (
            "History: 3 records, 1 in flight\n"
            "  failed      fal-ai/gpt-image-1.5  'refused'\n"
            "  queued      fal-ai/gpt-image-1.5  'still running'\n"
            "  done        fal-ai/gpt-image-1.5  'a <b>bold</b> fox & co'"
        )
    )
    record = fs.history(path=tmp_path / "one", state="completed")[0]  # the older word still filters
    assert (
        repr(record) == "RunRecord('fal-ai/gpt-image-1.5', done, prompt='a <b>bold</b> fox & co', images=2, "
        "request_id='aaa-1')"
    )


def test_html_gallery_has_thumbnails_escaped_text_and_no_script() -> None:
    store = HistoryStore()
    _fill(store, "r", at=1_000)
    html = fs.history()._repr_html_()
    assert html.count("data:image/jpeg;base64,") == 1  # one preview per card, only the done one has images
    assert "&lt;b&gt;bold&lt;/b&gt; fox &amp; co" in html and "<b>bold" not in html
    assert "<script" not in html.lower() and "onerror" not in html.lower()
    assert "var(--jp-ui-font-color1" in html and "var(--jp-layout-color1" in html
    for text in ("3 records, 1 in flight", "sync_mode: cannot be fetched again", "content_policy_violation", "×2"):
        assert text in html
    assert len(list(store.thumbs_dir.iterdir())) == 1  # the preview is cached for the next display
    assert fs.history()._repr_html_() == html


def test_html_of_a_long_history_shows_the_newest_and_says_how_many_more() -> None:
    store = HistoryStore()
    for i in range(SHOWN + 3):
        store.submitted(submitted(f"r{i}", f"prompt {i}", at=1_000 + i))
    html = fs.history()._repr_html_()
    assert "prompt 26" in html and "prompt 2<" not in html and "… and 3 more" in html


def test_empty_history_and_unreadable_image_files_still_display() -> None:
    assert "No run records yet." in fs.history()._repr_html_()
    store = HistoryStore()
    store.submitted(submitted("broken"))
    store.finished(finished("broken"))
    [record] = fs.history()
    (store.root / record.images[0].path).write_bytes(b"not an image any more")
    html = record._repr_html_()
    assert "no image" in html and "1 record" in html


def test_html_previews_have_alt_text_and_text_is_escaped_once() -> None:
    store = HistoryStore()
    store.submitted(submitted("alt-1", "a  fox\n& a hen", cost_estimate="≤ $0.20 <est>"))
    store.finished(finished("alt-1"))
    html = fs.history()._repr_html_()
    assert 'alt="a fox &amp; a hen"' in html  # what the picture shows, for screen readers
    assert "&lt;est&gt;" in html and "&amp;lt;" not in html
