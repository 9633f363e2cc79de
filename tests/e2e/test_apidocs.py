"""/docs and /redoc in real headless Chromium with every request off the server's origin aborted.

Chromium is Debian's (`/usr/bin/chromium`), driven with Playwright; nothing is downloaded.
Without it the tests skip, unless PROMPTLANE_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright

from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

CHROMIUM = Path(os.environ.get("PROMPTLANE_TEST_CHROMIUM", "/usr/bin/chromium"))  # Debian's
# Read at import: the autouse fixture hides PROMPTLANE_* variables from the tests themselves.
REQUIRE_BROWSER = os.environ.get("PROMPTLANE_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
# ReDoc's sidebar always shows Redocly's logo from its CDN (hard-coded, no option): the page's
# CSP refuses it, so it never leaves the browser, and the test aborts it besides.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(f"PROMPTLANE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    with sync_playwright() as p:
        yield launch(p)


def launch(p: Playwright) -> Browser:
    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


@dataclass
class Offline:
    """A page whose requests off the server's origin are aborted, and what it tried."""

    page: Page
    served: list[str] = field(default_factory=list)  # same-origin requests let through
    aborted: list[str] = field(default_factory=list)  # off-origin requests the network saw
    requested: list[str] = field(default_factory=list)  # everything the page asked for
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def offline(browser: Browser, server: Server) -> Iterator[Offline]:
    context = browser.new_context(service_workers="block", locale="en-US")
    page = context.new_page()
    seen = Offline(page)
    origin = urlsplit(server.url)

    def route(r: Route) -> None:
        url = urlsplit(r.request.url)
        if (url.scheme, url.netloc) == (origin.scheme, origin.netloc):
            seen.served.append(r.request.url)
            r.continue_()
        else:
            seen.aborted.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda r: seen.requested.append(r.url))
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(f"uncaught: {e}"))
    try:
        yield seen
    finally:
        context.close()


def off_origin(urls: list[str], server: Server) -> set[str]:
    # blob: URLs are made by the page itself (ReDoc's search worker), on its own origin.
    return {u for u in urls if not u.startswith((server.url + "/", "blob:" + server.url + "/"))}


def test_swagger_ui_renders_from_this_server_alone(offline: Offline, server: Server) -> None:
    page = offline.page
    page.goto(f"{server.url}/docs")
    operation = page.locator(".opblock-summary", has_text="/healthz").first
    expect(operation).to_contain_text("Check Health")
    expect(page.locator(".opblock-tag")).to_have_count(len(_tags(server)))
    operation.click()  # expands: the responses are rendered from the document too
    expect(page.locator(".opblock-body").first).to_contain_text("Successful Response")
    page.get_by_role("button", name="Try it out").click()  # a real call, within connect-src
    page.get_by_role("button", name="Execute").click()
    live = page.locator(".live-responses-table tr.response .response-col_status")
    expect(live).to_have_text("200")
    assert offline.aborted == []
    assert off_origin(offline.requested, server) == set()
    assert f"{server.url}/openapi.json" in offline.served
    assert offline.errors == []


def test_swagger_ui_authorizes_with_an_api_key(offline: Offline, server: Server) -> None:
    page = offline.page
    page.goto(f"{server.url}/docs")
    operation = page.locator(".opblock-summary", has_text="/v1/keys/me").first
    operation.click()
    expect(page.locator(".opblock-description-wrapper").first).to_contain_text(
        "Needs a reader key or higher."
    )
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    live = page.locator(".live-responses-table tr.response .response-col_status")
    expect(live).to_have_text("401")  # no key yet
    page.locator(".auth-wrapper button.authorize").click()
    page.locator(".auth-container input").fill(ADMIN_KEY)
    page.locator(".auth-container button.authorize").click()
    page.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Execute").click()
    expect(live).to_have_text("200")
    expect(
        page.locator(".live-responses-table tr.response .response-col_description")
    ).to_contain_text('"role": "admin"')
    assert offline.aborted == []
    refused = "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    assert offline.errors == [refused]  # the call made before authorizing


def test_redoc_renders_from_this_server_alone(offline: Offline, server: Server) -> None:
    page = offline.page
    page.goto(f"{server.url}/redoc")
    expect(page.get_by_role("heading", name="Check Health")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="Create Chat Completion")).to_be_visible()
    page.get_by_role("textbox", name="Search").fill("health")  # the index runs in a worker
    results = page.locator("[data-role='search:results']")
    # The worker indexes the whole spec first: on a loaded machine that outlasts the default 5 s.
    expect(results.get_by_role("menuitem", name="Check Health")).to_be_visible(timeout=30_000)
    assert offline.aborted == []  # the CSP stopped the logo before the network saw it
    assert off_origin(offline.requested, server) <= {REDOC_LOGO}
    assert f"{server.url}/openapi.json" in offline.served
    unexpected = [e for e in offline.errors if REDOC_LOGO not in e]
    assert unexpected == []


def _tags(server: Server) -> set[str]:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    return {tag for ops in spec["paths"].values() for op in ops.values() for tag in op["tags"]}
