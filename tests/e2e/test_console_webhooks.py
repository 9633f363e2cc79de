"""The console's webhook pages in real headless Chromium against a real server and receiver."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY
from tests.e2e.browser import Tab
from tests.e2e.console_runs_seed import admin_client
from tests.e2e.server import Server
from tests.e2e.test_console import NAV, sign_in
from tests.evals.webhook_receiver import Inbox, receiver

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Hooked:
    """The server, a reader and a writer key, and a receiver that verifies signatures."""

    server: Server
    reader_key: str
    writer_key: str
    inbox: Inbox
    url: str


@pytest.fixture(scope="module")
def hooked(server: Server) -> Iterator[Hooked]:
    with admin_client(server) as admin:
        keys = {
            role: admin.post("/v1/keys", json={"name": f"hooks-{role}", "role": role}).json()
            for role in ("reader", "writer")
        }
    inbox = Inbox(secret="")  # the secret is known once the console has shown it
    with receiver(inbox) as url:
        yield Hooked(server, keys["reader"]["key"], keys["writer"]["key"], inbox, url)


def no_key(page: Page, hooked: Hooked, secret: str | None = None) -> None:
    """Assert that no API key (nor, once shown, the endpoint's secret) is in the page."""
    html = page.content()
    for kept in (ADMIN_KEY, hooked.writer_key, hooked.reader_key, secret):
        assert kept is None or kept not in html
    assert "undefined" not in page.locator("main").inner_text()


def create_endpoint(page: Page, name: str, url: str, events: str = "*") -> None:
    page.fill("#webhook-name", name)
    page.fill("#webhook-url", url)
    page.fill("#webhook-events", events)
    page.click("#webhook-create")


def test_create_shows_the_secret_once_then_test_redeliver_pause_delete(
    tab: Tab, hooked: Hooked
) -> None:
    page, base = tab.page, hooked.server.url
    page.goto(base + "/console/webhooks")
    sign_in(page, ADMIN_KEY)
    expect(page.locator("#nav a")).to_have_text(
        [*NAV[:-2], "Calls", "Traces", "Webhooks", "Dashboard"]
    )
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Webhooks")
    expect(page.locator("#webhook-results .state")).to_contain_text("No webhook endpoints yet")

    # Bad input: the server's field errors, and nothing is created.
    create_endpoint(page, "ops", "ftp://nowhere.example")
    expect(page.locator("#webhook-create-status .problem-errors")).to_contain_text("http://")
    expect(page.locator("#webhook-table")).to_have_count(0)

    # Created: the secret is shown this once, focused, with the copy hint.
    create_endpoint(page, "ops", hooked.url, "label.moved, run.finished")
    secret_box = page.locator("#webhook-secret-value")
    expect(secret_box).to_be_focused()
    secret = secret_box.input_value()
    assert secret.startswith("whsec_")
    expect(page.locator("#webhook-secret-hint")).to_contain_text("shown only this once")
    page.click("#webhook-secret-copy")  # the clipboard, or the field selected for Ctrl+C
    expect(page.locator("#webhook-secret [role=status]")).to_have_text(
        re.compile(r"^(Copied\.|Selected: press Ctrl\+C \(⌘C\) to copy\.)$")
    )
    hooked.inbox.secret = secret
    row = page.locator('#webhook-table tr[data-webhook="ops"] td')
    expect(row.nth(1)).to_have_text(hooked.url)
    expect(row.nth(2).locator(".chip")).to_have_text(["label.moved", "run.finished"])
    expect(row.nth(3)).to_have_text("standard")
    expect(row.nth(4)).to_have_text("active")
    expect(row.nth(5)).to_have_text("none yet")
    assert page.evaluate("JSON.stringify(Object.values(sessionStorage))") == f'["{ADMIN_KEY}"]'

    # Never again: not on the endpoint's page, not back on the list, not after a reload.
    row.nth(0).locator("a").click()
    expect(page.locator("h1")).to_have_text("ops")
    expect(page.locator("#webhook-url-shown")).to_have_text(hooked.url)
    no_key(page, hooked, secret)
    page.go_back()
    expect(page.locator("#webhook-table tbody tr")).to_have_count(1)
    expect(page.locator("#webhook-secret")).to_have_count(0)
    no_key(page, hooked, secret)

    # A test event: queued, sent, verified by the receiver; its attempt is listed.
    page.goto(base + "/console/webhooks/ops")
    expect(page.locator("#delivery-results .state")).to_contain_text("No deliveries yet")
    page.focus("#webhook-test")
    page.keyboard.press("Enter")
    queued = page.locator("#webhook-status a")
    expect(queued).to_contain_text("delivery #")
    expect(page.locator("#delivery-table tbody tr")).to_have_count(1)
    expect(page.locator("#webhook-test")).to_be_focused()  # redrawn, the focus stays put
    queued.click()
    expect(page.locator("#delivery-status")).to_have_text("delivered")  # the page follows it
    expect(page.locator("#attempt-table tbody tr td:nth-child(3)")).to_have_text(["204"])
    webhook_id = page.locator("#delivery-facts code").inner_text()
    assert list(hooked.inbox.processed) == [webhook_id]
    expect(page.locator("#delivery-data")).to_contain_text('"name": "ops"')

    # Redeliver: the same webhook-id again; the receiver sees a duplicate it can drop.
    page.click("#delivery-redeliver")
    expect(page.locator("#delivery-action-status")).to_contain_text("same webhook-id")
    expect(page.locator("#attempt-table tbody tr")).to_have_count(2)
    expect(page.locator("#attempt-table tbody tr").nth(1)).to_contain_text("by hand")
    expect(page.locator("#delivery-status")).to_have_text("delivered")
    assert hooked.inbox.duplicates == [webhook_id]

    # Pause and resume from the endpoint's page (the keyboard works the buttons).
    page.locator(".crumbs a", has_text="ops").click()
    expect(page.locator("#webhook-last")).to_contain_text("204")
    expect(page.locator("#delivery-table td:nth-child(4)")).to_have_text(["2"])

    # Rotating shows the new secret once; the old one still signs for a day (so still verifies).
    page.click("#webhook-rotate")
    rotated = page.locator("#webhook-secret-value")
    expect(rotated).to_be_focused()
    new_secret = rotated.input_value()
    assert new_secret.startswith("whsec_")
    assert new_secret != secret
    expect(page.locator("#webhook-secret-hint")).to_contain_text("signed with the old secret too")
    expect(page.locator("#webhook-facts")).to_contain_text("signs too until")
    page.click("#webhook-test")  # another action before copying it: still shown
    expect(page.locator("#webhook-status a")).to_contain_text("delivery #")
    expect(page.locator("#webhook-secret-value")).to_have_value(new_secret)
    page.reload()
    expect(page.locator("#webhook-facts")).to_contain_text("signs too until")
    expect(page.locator("#webhook-secret")).to_have_count(0)
    no_key(page, hooked, new_secret)
    no_key(page, hooked, secret)

    page.focus("#webhook-pause")
    page.keyboard.press("Enter")
    expect(page.locator("#webhook-state")).to_have_text("paused (paused by bootstrap-admin)")
    expect(page.locator("#webhook-pause")).to_have_text("Resume")
    expect(page.locator("#webhook-pause")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#webhook-state")).to_have_text("active")

    # 800 px: nothing wider than the window.
    page.set_viewport_size({"width": 800, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(base + "/console/webhooks")
    expect(page.locator('#webhook-table tr[data-webhook="ops"] td').nth(5)).to_contain_text("204")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Delete asks first; Cancel keeps it, confirming removes it and its log.
    page.goto(base + "/console/webhooks/ops")
    page.click("#webhook-delete")
    expect(page.locator("#webhook-delete-cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#webhook-delete-confirm")).to_have_count(0)
    page.click("#webhook-delete")
    expect(page.locator("#webhook-delete-question")).to_contain_text("cannot be undone")
    page.click("#webhook-delete-yes")
    expect(page).to_have_url(base + "/console/webhooks")
    expect(page.locator("#webhook-flash")).to_have_text("Deleted ops and its delivery log.")
    expect(page.locator("#webhook-results .state")).to_contain_text("No webhook endpoints yet")
    with admin_client(hooked.server) as admin:
        assert admin.get("/v1/webhooks/ops").status_code == 404
    no_key(page, hooked, secret)
    assert all("422" in e for e in tab.errors), tab.errors  # the bad URL's answer


@pytest.mark.parametrize("role", ["reader", "writer"])
def test_below_admin_no_nav_entry_and_the_server_says_403(
    tab: Tab, hooked: Hooked, role: str
) -> None:
    page, base = tab.page, hooked.server.url
    with admin_client(hooked.server) as admin:
        body = {"name": f"seen-{role}", "url": hooked.url, "event_types": ["*"]}
        assert admin.post("/v1/webhooks", json=body).status_code == 201
    page.goto(base + "/console/prompts")
    sign_in(page, hooked.reader_key if role == "reader" else hooked.writer_key)
    expect(page.locator("#who .role")).to_have_text(role)
    expect(page.locator("#nav a", has_text="Webhooks")).to_have_count(0)
    page.goto(base + "/console/webhooks")
    expect(page.locator("#webhook-results .problem-title")).to_have_text("Permission denied (403)")
    expect(page.locator("#webhook-form")).to_have_count(0)  # no form to a refusal
    page.goto(f"{base}/console/webhooks/seen-{role}")
    expect(page.locator("#webhook-box .problem-title")).to_have_text("Permission denied (403)")
    expect(page.locator("#webhook-actions")).to_have_count(0)
    expect(page.locator("#delivery-results")).to_be_hidden()
    page.goto(f"{base}/console/webhooks/seen-{role}/deliveries/1")
    expect(page.locator("#delivery-box .problem-title")).to_have_text("Permission denied (403)")
    expect(page.locator("#delivery-redeliver")).to_be_hidden()
    assert all("403" in e for e in tab.errors), tab.errors


def test_an_unknown_endpoint_or_delivery_shows_the_404(tab: Tab, hooked: Hooked) -> None:
    page, base = tab.page, hooked.server.url
    page.goto(base + "/console/webhooks/nowhere")
    sign_in(page, ADMIN_KEY)
    expect(page.locator("#webhook-box .problem-title")).to_contain_text("(404)")
    expect(page.locator("#webhook-box .problem-detail")).to_contain_text("nowhere")
    page.goto(base + "/console/webhooks/nowhere/deliveries/nope")
    expect(page.locator("#delivery-box .problem-title")).to_contain_text("(422)")
    assert all("404" in e or "422" in e for e in tab.errors), tab.errors


def test_the_delivery_log_pages_and_filters_by_status(tab: Tab, hooked: Hooked) -> None:
    page, base = tab.page, hooked.server.url
    with admin_client(hooked.server) as admin:
        body = {"name": "paged", "url": hooked.url, "event_types": ["policy.changed"]}
        assert admin.post("/v1/webhooks", json=body).status_code == 201
        # Paused: its deliveries wait, so each stays pending with no attempt.
        assert admin.patch("/v1/webhooks/paged", json={"is_paused": True}).status_code == 200
        ids = [admin.post("/v1/webhooks/paged/test").json()["id"] for _ in range(51)]
    page.goto(base + "/console/webhooks/paged")
    sign_in(page, ADMIN_KEY)
    expect(page.locator("#webhook-state")).to_have_text("paused (paused by bootstrap-admin)")
    rows = page.locator("#delivery-table tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_have_attribute("data-delivery", str(ids[-1]))  # newest first
    expect(page.locator("#delivery-results .pager-status")).to_have_text("1–50 of 51 · page 1 of 2")
    page.click("#delivery-results a[rel=next]")
    expect(page).to_have_url(base + "/console/webhooks/paged?page=2")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-delivery", str(ids[0]))
    expect(rows.first.locator("td").nth(2)).to_have_text("pending")
    page.select_option("#filter-status", "dead")
    page.click("#delivery-filters button")
    expect(page).to_have_url(base + "/console/webhooks/paged?status=dead")
    expect(page.locator("#delivery-results .state")).to_have_text("No dead deliveries.")
    page.goto(base + "/console/webhooks/paged?status=pending&page=2")  # a shared URL
    expect(page.locator("#filter-status")).to_have_value("pending")
    expect(rows).to_have_count(1)
    rows.first.locator("a").click()
    expect(page.locator("#attempt-table")).to_have_count(0)
    expect(page.locator("#delivery-box")).to_contain_text("Not tried yet")
    assert tab.errors == []
