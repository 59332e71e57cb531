"""The browser tier's pages share one Chromium profile per test worker (V8's code cache makes a JupyterLab page load
~30% cheaper), yet each test's pages start as a new visitor's: what a site kept (local storage, cookies,
permissions) is gone once they close."""

from __future__ import annotations

import pytest

from falstudio.testing import LoopbackServer, QuietHandler

from ._lab import chromium_page, require_browser

pytestmark = pytest.mark.browser

PAGE = b"<!doctype html><title>a site</title><p>a site"


class Site(QuietHandler):
    def do_GET(self) -> None:
        self.send(200, PAGE, {"content-type": "text/html"})


KEPT = """async () => ({
  stored: localStorage.getItem('seen'),
  cookie: document.cookie,
  clipboard: (await navigator.permissions.query({name: 'clipboard-read'})).state,
})"""


def test_a_later_test_meets_nothing_an_earlier_one_left() -> None:
    require_browser()
    with LoopbackServer(Site) as site:
        with chromium_page(400, 300) as page:
            page.goto(site.url)
            page.evaluate("() => { localStorage.setItem('seen', 'yes'); document.cookie = 'seen=yes; max-age=3600'; }")
            page.context.grant_permissions(["clipboard-read"], origin=site.url)
            assert page.evaluate(KEPT) == {"stored": "yes", "cookie": "seen=yes", "clipboard": "granted"}
        with chromium_page(400, 300) as page:
            page.goto(site.url)
            kept = page.evaluate(KEPT)
    assert kept["stored"] is None and kept["cookie"] == "" and kept["clipboard"] != "granted", kept
