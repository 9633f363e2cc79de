"""Real headless Chromium for end-to-end tests of the built-in pages (dashboard, console).

Chromium is Debian's (`/usr/bin/chromium`), driven with Playwright; nothing is downloaded.
Without it the tests skip, unless PROMPTLANE_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = Path(os.environ.get("PROMPTLANE_TEST_CHROMIUM", "/usr/bin/chromium"))  # Debian's
# Read at import: the autouse fixture hides PROMPTLANE_* variables from the tests themselves.
REQUIRE_BROWSER = os.environ.get("PROMPTLANE_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Tab:
    """A page in a fresh browser profile, with what it logged and requested."""

    page: Page
    errors: list[str]
    requests: list[str]


def start_playwright() -> Iterator[Playwright]:
    """Yield Playwright, or skip (fail under PROMPTLANE_REQUIRE_BROWSER=1) without Chromium."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(f"PROMPTLANE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    with sync_playwright() as p:
        yield p


def open_tab(playwright: Playwright, profile: Path) -> Iterator[Tab]:
    """Yield a tab at 1280 px in a fresh profile (en-US, UTC), recording errors and requests."""
    context: BrowserContext = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        timezone_id="UTC",
        service_workers="block",
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        opened = Tab(page, [], [])
        page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: opened.errors.append(f"uncaught: {e}"))
        context.on("request", lambda r: opened.requests.append(r.url))
        yield opened
    finally:
        context.close()
