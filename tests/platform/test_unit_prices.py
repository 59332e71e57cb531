"""Prices of any endpoint: fal's unit price × the request's units, the unit read from fal's free-form string;
budgets cover every priced endpoint."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest

from falstudio.client import Client, Platform, RetryPolicy, errors
from falstudio.endpoints import REGISTRY, get
from falstudio.endpoints.catalog import entries_from
from falstudio.endpoints.unit_pricing import UnitPrice, estimate_by_unit, remember, units_of

from ._fal_platform import FLUX, KEY, MODELS, FalPlatform


def _price(unit: str, amount: str = "0.1", currency: str = "USD") -> UnitPrice:
    return UnitPrice("test-org/x", Decimal(amount), unit, currency)


@pytest.mark.parametrize(
    ("unit", "request_fields", "units"),
    [
        ("image", {"num_images": 3}, Decimal(3)),
        ("images", {}, Decimal(1)),
        ("megapixels", {"image_size": {"width": 2048, "height": 1024}, "num_images": 2}, Decimal("4.194304")),
        ("seconds", {"duration": "8"}, Decimal(8)),
        ("Seconds", {"duration": 5}, Decimal(5)),
        ("generations", {"num_images": 4}, Decimal(1)),
        ("videos", {}, Decimal(1)),
    ],
)
def test_units_are_counted_from_the_request(unit: str, request_fields: dict[str, object], units: Decimal) -> None:
    counted = units_of(_price(unit), SimpleNamespace(**request_fields))
    assert not isinstance(counted, str) and counted[0] == units


@pytest.mark.parametrize(
    ("unit", "request_fields", "why"),
    [
        ("units", {}, "token-billed"),
        ("compute seconds", {"duration": 5}, "not one falstudio can count"),
        ("video segments", {}, "not one falstudio can count"),
        ("1000 tokens", {}, "not one falstudio can count"),
        ("megapixels", {"image_size": "auto"}, "megapixels are unknown"),
        ("seconds", {}, "no duration"),
    ],
)
def test_a_unit_it_cannot_count_has_no_price_never_a_guess(
    unit: str, request_fields: dict[str, object], why: str
) -> None:
    remember([UnitPrice("test-org/x", Decimal("0.1"), unit, "USD")])
    cost = estimate_by_unit("test-org/x", SimpleNamespace(**request_fields))
    assert not cost.known and why in cost.explanation and cost.amount == 0


def test_a_price_in_another_currency_is_not_counted_in_dollars() -> None:
    remember([_price("images", currency="EUR")])
    cost = estimate_by_unit("test-org/x", SimpleNamespace())
    assert not cost.known and "EUR" in cost.explanation


def test_gpt_image_keeps_its_hand_written_table_whatever_fal_lists() -> None:
    remember([UnitPrice("openai/gpt-image-2", Decimal(1), "units", "USD")])
    cost = REGISTRY["openai/gpt-image-2"].estimate_cost({"prompt": "a fox", "quality": "low"})
    assert cost.known and cost.amount < Decimal("0.05") and "units" not in cost.explanation


def test_a_budget_admits_a_unit_priced_endpoint_and_refuses_beyond_it(fal_platform: FalPlatform, server) -> None:  # type: ignore[no-untyped-def]
    Platform(key=KEY, retry=RetryPolicy(max_attempts=1)).search("flux")  # schema and $0.025 per megapixel
    spec = get(FLUX)
    request = {"prompt": "a fox", "image_size": {"width": 1024, "height": 1024}}
    cost = spec.estimate_cost(request)
    assert cost.known and abs(float(cost.amount) - 0.026) < 0.0005
    with Client(key=server.key, base_url=server.url, budget=0.03, history=False) as client:
        result = client.subscribe(FLUX, request)  # the offline server draws it; the budget counted it
        assert result.images and client.spent == cost.amount
    with (
        Client(key=server.key, base_url=server.url, budget=0.02, history=False) as client,
        pytest.raises(errors.BudgetExceededError),
    ):
        client.subscribe(FLUX, request)


def test_a_fal_client_asks_fal_for_the_unit_price_before_its_budget_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    entries_from([m for m in MODELS if m["endpoint_id"] == FLUX])  # the schema, as a catalog search leaves it
    asked: list[str] = []

    def fal(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/v1/models/pricing" and request.headers.get("authorization") == f"Key {KEY}":
            row = {"endpoint_id": FLUX, "unit_price": 0.025, "unit": "megapixels", "currency": "USD"}
            return httpx.Response(200, json={"prices": [row], "next_cursor": None, "has_more": False})
        return httpx.Response(500, json={"detail": "nothing else should be asked"})

    monkeypatch.setenv("FALSTUDIO_PLATFORM_URL", "https://api.fal.test/v1")
    request = {"prompt": "a fox", "image_size": {"width": 1024, "height": 1024}}
    with (
        Client(
            KEY, base_url="https://queue.fal.test", transport=httpx.MockTransport(fal), budget=0.02, history=False
        ) as client,
        pytest.raises(errors.BudgetExceededError) as refused,
    ):
        client.submit(FLUX, request)
    assert asked == ["/v1/models/pricing"]  # priced, then refused before anything was sent
    assert refused.value.estimate == Decimal("0.026215")
