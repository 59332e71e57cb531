"""Lifecycle as data: each endpoint's status, note and successor follow from dates and the day asked about."""

from __future__ import annotations

import datetime as dt

import pytest

from falstudio.endpoints import REGISTRY, Lifecycle, get

GPT1 = [
    "fal-ai/gpt-image-1/text-to-image",
    "fal-ai/gpt-image-1/text-to-image/byok",
    "fal-ai/gpt-image-1/edit-image",
    "fal-ai/gpt-image-1/edit-image/byok",
]
MINI_15 = [
    "fal-ai/gpt-image-1-mini",
    "fal-ai/gpt-image-1-mini/edit",
    "fal-ai/gpt-image-1.5",
    "fal-ai/gpt-image-1.5/edit",
]
LIVE = ["openai/gpt-image-2", "openai/gpt-image-2/edit"]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_every_row_is_classified() -> None:
    assert set(REGISTRY) == {*GPT1, *MINI_15, *LIVE}


@pytest.mark.parametrize("endpoint_id", GPT1 + MINI_15)
def test_successor_matches_the_kind(endpoint_id: str) -> None:
    spec = get(endpoint_id)
    expected = "openai/gpt-image-2" if spec.kind == "text-to-image" else "openai/gpt-image-2/edit"
    assert spec.successor == expected and get(expected).kind == spec.kind
    assert expected in spec.note_on(day("2026-12-02"))


@pytest.mark.parametrize(
    ("endpoint_id", "today", "status"),
    [
        ("fal-ai/gpt-image-1-mini", "2026-06-01", "active"),  # before the notice
        ("fal-ai/gpt-image-1-mini", "2026-06-02", "deprecated"),
        ("fal-ai/gpt-image-1.5/edit", "2026-11-30", "deprecated"),
        ("fal-ai/gpt-image-1.5/edit", "2026-12-01", "retired"),  # the shutdown day itself
        ("fal-ai/gpt-image-1-mini/edit", "2026-12-02", "retired"),
        ("fal-ai/gpt-image-1/text-to-image", "2026-10-22", "deprecated"),
        ("fal-ai/gpt-image-1/text-to-image", "2026-10-23", "retired"),
        ("fal-ai/gpt-image-1/edit-image/byok", "2026-04-01", "deprecated"),  # fal marked it in 2026-03
        ("openai/gpt-image-2", "2030-01-01", "active"),
    ],
)
def test_status_follows_the_dates(endpoint_id: str, today: str, status: str) -> None:
    assert get(endpoint_id).status_on(day(today)) == status


def test_status_field_is_todays_status() -> None:
    for spec in REGISTRY.values():
        assert spec.status == spec.status_on()


@pytest.mark.parametrize("endpoint_id", GPT1 + MINI_15)
def test_notes_never_say_will_retire_after_the_day(endpoint_id: str) -> None:
    spec = get(endpoint_id)
    assert spec.lifecycle is not None and spec.lifecycle.retires_on is not None
    shutdown = spec.lifecycle.retires_on
    for offset in (0, 1, 40, 400):
        note = spec.note_on(shutdown + dt.timedelta(days=offset))
        assert "retires" not in note and "will" not in note
        assert f"shut {spec.lifecycle.model} down on {shutdown.isoformat()}" in note
        assert "fal may still answer this endpoint, or may fail" in note
    assert f"({40} days ago)" in spec.note_on(shutdown + dt.timedelta(days=40))
    assert "(today)" in spec.note_on(shutdown)
    before = spec.note_on(shutdown - dt.timedelta(days=16))
    assert f"retires {spec.lifecycle.model} on {shutdown.isoformat()} (in 16 days)" in before
    assert "(tomorrow)" in spec.note_on(shutdown - dt.timedelta(days=1))


def test_byok_notes_keep_who_bills_and_what_fal_marked() -> None:
    note = get("fal-ai/gpt-image-1/edit-image/byok").note_on(day("2026-12-02"))
    assert note.startswith("fal marked this endpoint deprecated in 2026-03.")
    assert note.endswith("Billed to your OpenAI key by OpenAI.")
    assert "fal marked" not in get("fal-ai/gpt-image-1/text-to-image/byok").note_on(day("2026-12-02"))


def test_live_endpoints_have_no_note_and_no_successor() -> None:
    for endpoint_id in LIVE:
        spec = get(endpoint_id)
        assert spec.note_on(day("2026-12-02")) == "" and spec.successor is None


def test_today_defaults_to_the_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    class Calendar(dt.date):
        @classmethod
        def today(cls) -> dt.date:
            return cls(2026, 11, 1)

    monkeypatch.setattr(dt, "date", Calendar)
    life = Lifecycle("m", retires_on=day("2026-12-01"), successor="x/y")
    assert life.status() == "deprecated" and "(in 30 days)" in life.note()
