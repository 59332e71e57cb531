"""The Platform API client against a fal-shaped fake: catalog search (pages, schemas, an entry without
``metadata``), prices, estimates, fal's error envelope, and the disk cache."""

from __future__ import annotations

from decimal import Decimal

import pytest

import falstudio as fs
from falstudio.client import Platform, RetryPolicy, errors
from falstudio.endpoints import catalog, loader, unit_pricing

from ._fal_platform import BROKEN, FLARE, FLARE_EDIT, FLUX, KEY, OLD, FalPlatform, image_model

ONCE = RetryPolicy(max_attempts=1)


def test_search_follows_pages_types_each_schema_and_orders_live_first(fal_platform: FalPlatform) -> None:
    platform = Platform(key=KEY, retry=ONCE)
    entries = platform.search()
    ids = [e.id for e in entries]
    assert set(ids) == {FLUX, OLD, FLARE, FLARE_EDIT, BROKEN, "openai/gpt-image-2"}
    assert fal_platform.hits["/models"] == 3  # 6 models, 2 a page: the cursor was followed
    assert [q.get("cursor") for q in fal_platform.queries[:3]] == [None, ["Mg=="], ["Mw=="]]
    assert all(q.get("expand") == ["openapi-3.0"] for q in fal_platform.queries[:3])  # schemas in the same call
    assert ids[-1] == OLD  # deprecated last, marked
    by_id = {e.id: e for e in entries}
    flux = by_id[FLUX]
    assert (flux.display_name, flux.category, flux.status, flux.tags) == (
        "FLUX.1 [dev]",
        "text-to-image",
        "active",
        ("new",),
    )
    assert flux.thumbnail_url.startswith("https://fal.media/") and flux.spec is not None
    assert "image_size" in flux.spec.input_model.model_fields
    assert (
        by_id[OLD].spec is not None and by_id[OLD].spec.status == "deprecated" and "(deprecated)" in by_id[OLD].label()
    )
    assert not by_id[OLD].streaming and by_id[FLARE].streaming
    assert by_id[BROKEN].spec is None and "schema unavailable" in by_id[BROKEN].problem
    assert by_id["openai/gpt-image-2"].spec is fs.endpoints.REGISTRY["openai/gpt-image-2"]  # the registry wins
    assert fal_platform.hits["/models/pricing"] == 1  # every price of the page in one call


def test_gpt_image_25_works_like_gpt_image_2_where_its_schema_allows(fal_platform: FalPlatform) -> None:
    entries = {e.id: e for e in Platform(key=KEY, retry=ONCE).search("gpt image 2.5")}
    flare = entries[FLARE].spec
    assert flare is not None and flare.streaming and flare.kind == "text-to-image"  # the catalog's stream_url
    request = flare.validate({"prompt": "a fox", "quality": "xhigh", "image_size": {"width": 1536, "height": 1024}})
    assert request.quality == "xhigh"  # type: ignore[attr-defined]
    assert flare.title == "GPT Image 2.5 Flare"  # the catalog's display name
    with pytest.raises(ValueError, match="quality"):
        flare.validate({"prompt": "a fox", "quality": "ultra"})
    edit = entries[FLARE_EDIT].spec
    assert edit is not None and edit.kind == "image-edit" and edit.streaming  # its schema has /stream
    # fal bills it in token "units": no price, never a guess
    cost = flare.estimate_cost({"prompt": "a fox"})
    assert not cost.known and "'units'" in cost.explanation


def test_an_id_fal_does_not_know_comes_back_without_metadata(fal_platform: FalPlatform) -> None:
    entries = fs.endpoints.search(endpoint_ids=[FLUX, "nobody/nothing"])  # anonymous: the standard-library path
    unknown = next(e for e in entries if e.id == "nobody/nothing")
    assert not unknown.known and unknown.spec is None and unknown.status == ""
    assert entries[-1] is unknown


def test_a_megapixel_price_estimates_a_1024_square_and_says_how(fal_platform: FalPlatform) -> None:
    platform = Platform(key=KEY, retry=ONCE)
    spec = platform.search("flux")[0].spec
    assert spec is not None and spec.id == FLUX
    cost = spec.estimate_cost({"prompt": "a fox", "image_size": {"width": 1024, "height": 1024}})
    assert cost.known and cost.amount == Decimal("0.026215")  # 1.048576 MP × $0.025, to the micro-dollar
    assert "1.048576 megapixels" in cost.explanation and "$0.025 per megapixels" in cost.explanation
    assert cost.breakdown["source"] == "fal /v1/models/pricing"
    two = spec.estimate_cost({"prompt": "a fox", "image_size": "square_hd", "num_images": 2})
    assert two.amount == Decimal("0.052429") and "square_hd" in two.explanation


def test_without_a_price_the_estimate_says_prices_need_a_key(fal_platform: FalPlatform) -> None:
    entries = fs.endpoints.search("flux")  # anonymous: schemas, no prices
    spec = entries[0].spec
    assert spec is not None
    cost = spec.estimate_cost({"prompt": "a fox"})
    assert not cost.known and "needs a key" in cost.explanation and fal_platform.hits["/models/pricing"] == 0


def test_prices_need_a_key_and_errors_come_from_fals_envelope(fal_platform: FalPlatform) -> None:
    anonymous = Platform(base_url=fal_platform.url, retry=ONCE)
    with pytest.raises(errors.AuthError, match="Authentication required") as caught:
        anonymous.prices([FLUX])
    assert caught.value.error_type == "authorization_error" and caught.value.status_code == 401
    assert "FAL_KEY" in str(caught.value)


def test_prices_and_estimates_are_kept_with_their_date(fal_platform: FalPlatform) -> None:
    platform = Platform(key=KEY, retry=ONCE)
    [price] = platform.prices([FLUX])
    assert (price.unit_price, price.unit, price.fetched_at is not None) == (Decimal("0.025"), "megapixels", True)
    unit_pricing.forget()  # a later process: read from disk
    assert platform.prices([FLUX])[0].unit_price == Decimal("0.025") and fal_platform.hits["/models/pricing"] == 1
    first = platform.estimate(units={FLUX: 50})
    assert (first.total_cost, first.estimate_type) == (Decimal("1.25"), "unit_price")
    assert platform.estimate(units={FLUX: 50}) == first  # cached: fal rate-limits this call
    for n in (1, 2):
        platform.estimate(units={FLUX: n})
    with pytest.raises(errors.RateLimitedError, match="Rate limit exceeded"):
        platform.estimate(units={FLUX: 3})  # the fourth question in a row: fal answers 429


def test_the_catalog_is_kept_on_disk_and_used_when_fal_cannot_be_reached(
    fal_platform: FalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = fs.endpoints.search("flux")
    assert fal_platform.hits["/models"] == 1
    assert [e.id for e in fs.endpoints.search("flux")] == [e.id for e in first] and fal_platform.hits["/models"] == 1
    monkeypatch.setenv("FALSTUDIO_PLATFORM_URL", "http://127.0.0.1:9/v1")
    again = fs.endpoints.search("flux", refresh=True)  # fal unreachable: the dated copy
    assert [e.id for e in again] == [FLUX] and again[0].fetched_at == first[0].fetched_at
    with pytest.raises(catalog.CatalogUnavailableError, match=r"could not be reached.*Fix: "):  # not an empty list
        fs.endpoints.search("never asked")


def test_a_picker_of_forty_models_costs_a_few_requests_not_forty(monkeypatch: pytest.MonkeyPatch) -> None:
    models = [image_model(f"test-org/model-{i:02d}", f"Model {i:02d}") for i in range(40)]
    fake = FalPlatform(models, page=10)  # fal answers at most 10 a page with schemas (observed)
    fake.prices.update({m["endpoint_id"]: (0.03, "images") for m in models})
    monkeypatch.setenv("FALSTUDIO_PLATFORM_URL", fake.url)
    try:
        entries = Platform(key=KEY, retry=ONCE).search("model")
    finally:
        fake.close()
    assert len(entries) == 40 and all(e.spec is not None for e in entries)
    assert (fake.hits["/models"], fake.hits["/models/pricing"]) == (4, 1)  # 5 requests for 40 typed, priced models
    cost = entries[0].spec.estimate_cost({"prompt": "a fox", "num_images": 2})  # type: ignore[union-attr]
    assert cost.known and cost.amount == Decimal("0.06")
    assert not fake.problems, fake.problems


def test_what_the_catalog_said_holds_in_a_later_process(fal_platform: FalPlatform) -> None:
    fs.endpoints.search()
    loader.forget()  # a new kernel: the specs come from the disk cache, typed again
    old, flare = fs.endpoints.get(OLD), fs.endpoints.get(FLARE)
    assert old.status_on() == "deprecated" and "deprecated" in old.note
    assert flare.streaming and flare.title == "GPT Image 2.5 Flare"
    again = fs.endpoints.search()  # from the dated copy: the same specs, not typed twice
    assert {e.id: e.spec for e in again}[OLD] is fs.endpoints.get(OLD) and fal_platform.hits["/models"] == 3


def test_a_search_longer_than_falstudio_reads_says_it_was_cut(
    fal_platform: FalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to stop at the page limit silently: a broad search looked complete."""
    monkeypatch.setattr(catalog, "MAX_PAGES", 2)  # 6 models, 2 a page: three pages
    with pytest.warns(fs.errors.CatalogTruncatedWarning, match="more than 2 pages.*first 4 models"):
        entries = fs.endpoints.search()
    assert len(entries) == 4 and fal_platform.hits["/models"] == 2
