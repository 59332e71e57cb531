"""fal's ``x-fal-billable-units`` header, recorded where it appears and never invented.

fal sends the header on some replies (a sync run, a request's result). A fal-shaped copy on loopback: a small
proxy in front of the real local server that adds the header to those replies, as fal does.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

import falstudio as fs
from falstudio.client import Client
from falstudio.client._billed import billed_units
from falstudio.local import LocalServer
from falstudio.testing import LoopbackServer, QuietHandler

T2I = "fal-ai/gpt-image-1-mini"
LOW = {"prompt": "a red fox billed", "quality": "low", "image_size": "1024x1024"}


class BillingProxy:
    """Forwards to ``upstream``; adds ``x-fal-billable-units`` to run and result replies (and to submit replies
    when ``on_submit``). The status stream is answered 404 so that the client polls through the proxy."""

    def __init__(self, upstream: str, units: str | None = "1", on_submit: str | None = None) -> None:
        self.units, self.on_submit = units, on_submit
        proxy = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

            def do_PUT(self) -> None:
                self._forward("PUT")

            def _forward(self, method: str) -> None:
                if self.path.split("?")[0].endswith("/status/stream"):
                    self.send_json(404, {"detail": "Not Found"})
                    return
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                reply = httpx.request(method, upstream + self.path, content=body, headers=headers, timeout=60)
                extra = {"content-type": reply.headers.get("content-type", "application/json")}
                if "x-fal-request-id" in reply.headers:
                    extra["x-fal-request-id"] = reply.headers["x-fal-request-id"]
                path = self.path.split("?")[0]
                result = "/requests/" in path and not path.endswith(("/status", "/cancel"))
                if reply.is_success and (path.startswith("/run/") or result):
                    if proxy.units is not None:
                        extra["x-fal-billable-units"] = proxy.units
                elif reply.is_success and method == "POST" and proxy.on_submit is not None:
                    extra["x-fal-billable-units"] = proxy.on_submit
                self.send(reply.status_code, reply.content, extra)

        self._server = LoopbackServer(Handler)
        self.url = self._server.url

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def proxy(server: LocalServer) -> Iterator[BillingProxy]:
    p = BillingProxy(server.url, units="2.5")
    yield p
    p.close()


def test_the_header_is_read_as_sent() -> None:
    assert billed_units({"x-fal-billable-units": "3.008"}, "result").units == Decimal("3.008")
    named = billed_units({"x-fal-billable-units": "2 images"}, "run")
    assert named is not None and (named.units, named.unit, str(named)) == (Decimal(2), "images", "2 images")
    assert billed_units({}, "result") is None
    assert billed_units({"x-fal-billable-units": "lots"}, "result") is None  # unreadable: nothing invented


def test_billed_units_on_the_result_reply_are_kept_beside_the_estimate(
    server: LocalServer, proxy: BillingProxy
) -> None:
    with Client(base_url=proxy.url, key=server.key) as client:
        result = client.subscribe(T2I, LOW)
    assert result.billed is not None and result.billed.units == Decimal("2.5") and result.billed.reply == "result"
    assert result.cost is not None and result.cost.amount == Decimal("0.01")  # estimate and billed kept apart
    record = fs.history().get(result.request_id)
    assert (record.cost_amount, record.billed_units, record.billed_unit) == ("0.01", "2.5", None)
    spend = fs.history().spent(since="today")
    row = next(r for r in spend.rows if r.endpoint == T2I)
    assert row.mode == "local" and row.estimated == Decimal("0.01")
    assert (row.billed_units, row.billed_requests) == (Decimal("2.5"), 1)
    metadata = result.images[0].metadata()
    assert metadata is not None and metadata.billed == "2.5 billable units"


def test_billed_units_on_a_sync_run_and_on_a_submit(server: LocalServer) -> None:
    proxy = BillingProxy(server.url, units="1", on_submit="7")
    try:
        with Client(base_url=proxy.url, key=server.key) as client:
            ran = client.run(T2I, {**LOW, "prompt": "a red fox sync billed"})
            handle = client.submit(T2I, {**LOW, "prompt": "a red fox submit billed"})
            assert handle._async.billed is not None and handle._async.billed.units == 7  # from the submit reply
            result = handle.get()
    finally:
        proxy.close()
    assert ran.billed is not None and (ran.billed.units, ran.billed.reply) == (Decimal(1), "run")
    assert result.billed is not None and result.billed.reply == "result"  # the result's figure wins
    records = {r.request_id: r for r in fs.history()}
    assert records[ran.request_id].billed_units == "1" and records[result.request_id].billed_units == "1"


def test_no_header_no_billed_figure(server: LocalServer) -> None:
    quiet = BillingProxy(server.url, units=None)  # the local server sends the header: a proxy that does not
    try:
        with Client(base_url=quiet.url, key=server.key) as client:
            result = client.subscribe(T2I, LOW)
    finally:
        quiet.close()
    assert result.billed is None
    assert fs.history().get(result.request_id).billed_units is None
    assert fs.history().spent().billed_units() == {}
