"""Promote and roll back from the console's prompt page, in real Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.console_seed import CONFIG, PROMPT, SUITE, Seeded, run_suite, seed
from tests.e2e.server import start_server

pytestmark = pytest.mark.e2e

# v4 echoes the ticket (its suite run fails the gate); v5 fixes it (its run passes).
BROKEN = {
    "messages": [{"role": "user", "content": "Route: {{ticket}}"}],
    "config": {**CONFIG, "model": "offline/echo"},
    "message": "echoes instead of routing",
}
FIXED = {
    "messages": [{"role": "user", "content": "Route this ticket to a team: {{ticket}}"}],
    "config": CONFIG,
    "message": "routes again",
}


@dataclass(frozen=True)
class Promotion:
    """The seeded server and keys, an admin client, and the failed run of v4."""

    seeded: Seeded
    admin: httpx.Client
    failed_run: int


@pytest.fixture(scope="module")
def promotion(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Promotion]:
    tmp = tmp_path_factory.mktemp("promote")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    admin = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    )
    try:
        seeded = seed(server)
        for body in (BROKEN, FIXED):
            published = admin.post(f"/v1/prompts/{PROMPT}/versions", json=body)
            assert published.status_code == 201, published.text
        yield Promotion(seeded, admin, run_suite(admin, 4))
    finally:
        admin.close()
        server.stop()


def open_prompt(page: Page, promotion: Promotion, key: str, version: int) -> None:
    """Open the prompt's page at `version` and sign in with `key`."""
    page.goto(f"{promotion.seeded.server.url}/console/prompts/{PROMPT}?version={version}")
    page.fill("#api-key", key)
    page.press("#api-key", "Enter")
    expect(page.locator("#selected-title")).to_have_text(f"Version {version}")


def test_refused_then_promoted_then_rolled_back(tab: Tab, promotion: Promotion) -> None:
    page, url = tab.page, promotion.seeded.server.url
    open_prompt(page, promotion, promotion.seeded.writer_key, 4)
    expect(page.locator("#move-label")).to_have_value("production")
    expect(page.locator("#move-version")).to_have_value("4")
    expect(page.locator("#move-force")).to_have_count(0)  # forcing is for admins

    # The dry run: the policy, the pinned suite and why no run counts.
    page.click("#move-check")
    report = page.locator("#gate-report")
    expect(report).to_have_attribute("data-allowed", "false")
    expect(report.locator(".gate-verdict")).to_contain_text("Would be refused")
    expect(report.locator(".gate-verdict")).to_contain_text(f"{SUITE}:1")
    expect(report.locator(".facts dd").first).to_have_text("production: v2 → v4")
    suite = report.locator(f'tr[data-suite="{SUITE}"]')
    expect(suite.locator(".badge")).to_have_text("missing")
    expect(suite.locator("td").last).not_to_have_text("–")  # the server says why

    # No reason, no request: the move is blocked in the page.
    page.click("#move-submit")
    expect(page.locator("#move-verdict .problem-title")).to_have_text("A reason is required")
    expect(page.locator("#move-reason")).to_be_focused()
    assert not [u for u in tab.requests if u.endswith("/labels/production")]

    # The real move: refused with the same report, rendered, nothing moved.
    page.fill("#move-reason", "ship the echo")
    page.click("#move-submit")
    verdict = page.locator("#move-verdict")
    expect(verdict.locator(".problem-title")).to_have_text("Promotion gate not passed (409)")
    expect(verdict.locator("#refusal-report")).to_have_attribute("data-allowed", "false")
    expect(verdict.locator("#refusal-report .gate-verdict")).to_contain_text(
        "Refused no qualifying"
    )
    expect(verdict.locator(f'#refusal-report tr[data-suite="{SUITE}"] .badge')).to_have_text(
        "missing"
    )
    expect(page.locator('#label-table tr[data-label="production"] td')).to_have_text("v2")

    # The fixed version passes its run; the dry run names that run, and the move succeeds.
    passed = run_suite(promotion.admin, 5)
    page.select_option("#move-version", "5")
    page.click("#move-check")
    expect(report).to_have_attribute("data-allowed", "true")
    expect(suite.locator(".badge")).to_have_text("passed")
    expect(suite.locator("a")).to_have_attribute("href", f"/console/runs/{passed}")
    page.fill("#move-reason", "v5 passed the quality suite")
    page.click("#move-submit")
    expect(page.locator("#move-done")).to_have_text("production now points at v5.")
    expect(page.locator('#label-table tr[data-label="production"] td')).to_have_text("v5")
    history = page.locator("#history-table tbody tr")
    expect(history.nth(0).locator("td").nth(1)).to_have_text("v2 → v5")
    expect(history.nth(0).locator("td").nth(3)).to_have_text("v5 passed the quality suite")
    expect(history.nth(0).locator(".evidence a")).to_have_text(f"run #{passed}")

    # Roll back to v2 from its history row: the dry run finds v2's run still good, then it moves.
    expect(history.nth(0).locator("button.rollback")).to_have_count(0)  # v5 is current
    page.click('#history-table button.rollback[data-version="2"]')
    expect(page.locator("#move-version")).to_have_value("2")
    expect(report).to_have_attribute("data-allowed", "true")
    expect(report.locator(".gate-verdict")).to_contain_text("Would be allowed")
    expect(suite.locator("a")).to_have_text(f"run #{promotion.seeded.run_id}")
    expect(page.locator("#move-reason")).to_be_focused()
    page.fill("#move-reason", "incident 42: back to v2")
    page.click("#move-submit")
    expect(page.locator("#move-done")).to_have_text("production now points at v2.")
    expect(history.nth(0).locator("td").nth(1)).to_have_text("v5 → v2")
    expect(history.nth(0).locator(".evidence a")).to_have_text(f"run #{promotion.seeded.run_id}")
    expect(page).to_have_url(f"{url}/console/prompts/{PROMPT}?version=4&label=production")
    assert all("409" in e for e in tab.errors), tab.errors  # the browser's note of the refusal


def test_reader_sees_no_move_or_rollback(tab: Tab, promotion: Promotion) -> None:
    page = tab.page
    open_prompt(page, promotion, promotion.seeded.reader_key, 4)
    expect(page.locator("#history-table tbody tr").first).to_be_visible()
    expect(page.locator("#move-form")).to_have_count(0)
    expect(page.locator("#move-title")).to_have_count(0)
    expect(page.locator("#history-table button")).to_have_count(0)
    assert tab.errors == []


def test_writer_refused_a_protected_label_without_a_policy(tab: Tab, promotion: Promotion) -> None:
    page = tab.page
    page.goto(f"{promotion.seeded.server.url}/console/prompts/bulk/p00")
    page.fill("#api-key", promotion.seeded.writer_key)
    page.press("#api-key", "Enter")
    page.fill("#move-label", "production")
    page.click("#move-check")  # no policy, but the dry run answers for this key's role
    expect(page.locator("#gate-report")).to_have_attribute("data-allowed", "false")
    expect(page.locator("#gate-report .gate-verdict")).to_contain_text(
        "Would be refused label 'production' is protected: only an admin key may move it"
    )
    expect(page.locator("#gate-report .facts dd").nth(2)).to_contain_text("not gated")
    page.fill("#move-reason", "first release")
    page.click("#move-submit")  # the role protection answers: only an admin may
    expect(page.locator("#move-verdict .problem-title")).to_have_text("Label is protected (403)")
    expect(page.locator("#move-verdict .problem-detail")).to_contain_text("admin")
    expect(page.locator("#label-table")).to_have_count(0)
    assert all("403" in e for e in tab.errors), tab.errors


def test_admin_forces_with_a_reason(tab: Tab, promotion: Promotion) -> None:
    page = tab.page
    open_prompt(page, promotion, ADMIN_KEY, 4)
    page.fill("#move-label", "production")
    page.check("#move-force")
    page.click("#move-submit")  # forced or not, a move needs its reason
    expect(page.locator("#move-verdict .problem-title")).to_have_text("A reason is required")
    page.fill("#move-reason", "incident 43: the echo is what we want tonight")
    page.click("#move-submit")
    expect(page.locator("#move-done")).to_have_text("production now points at v4 (forced).")
    latest = page.locator("#history-table tbody tr").first
    expect(latest.locator(".badge")).to_have_text("forced")
    expect(latest.locator("td").nth(2)).to_have_text("bootstrap-admin (admin)")
    assert tab.errors == []

    # The server holds the same line as the page: a forced move without a reason is refused.
    forced = {"version": 3, "reason": " ", "force": True}
    refused = promotion.admin.put(f"/v1/prompts/{PROMPT}/labels/production", json=forced)
    assert refused.status_code == 422, refused.text
