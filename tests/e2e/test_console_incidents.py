"""The console's incident and monitor pages in real Chromium against a real server.

A scheduled monitor is triggered by hand on a label forced onto a broken version: its re-run of
the pinned suite fails, it fires, an incident opens and auto-rollback moves the label back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.server import Server, start_server
from tests.e2e.test_console import NAV, sign_in

pytestmark = pytest.mark.e2e

PROMPT, LABEL = "ops/triage", "production"
SUITE, DATASET, MONITOR = "ops-quality", "ops/tickets", "nightly"
ANSWERS = {"t0": "billing", "t1": "technical", "t2": "account"}
MESSAGES = [{"role": "user", "content": "{{ticket}}"}]
GOOD = {"model": "offline/scripted", "temperature": 0, "offline": {"script": ANSWERS}}
BROKEN = {"model": "offline/echo", "temperature": 0}  # answers the ticket: every item fails
SIGNAL = {"metric": "error_rate", "op": ">", "threshold": 0.05, "window_seconds": 3600}


@dataclass(frozen=True)
class Fired:
    """The server, reader and writer keys, and what the firing left behind."""

    server: Server
    reader_key: str
    writer_key: str
    incident_id: int
    event: dict[str, Any]


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _until(admin: httpx.Client, path: str, done: Any) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = _ok(admin.get(path))
        if done(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{path} never got there: {body}")


def _fire(admin: httpx.Client) -> dict[str, Any]:
    """Force the label onto the broken version, trigger the monitor; return its fired check."""
    labels = f"/v1/prompts/{PROMPT}/labels/{LABEL}"
    _ok(admin.put(labels, json={"version": 2, "reason": "hotfix", "force": True}))
    [started] = _ok(admin.post(f"/v1/monitors/{MONITOR}/trigger"))
    page = _until(
        admin,
        f"/v1/monitors/{MONITOR}/events",
        lambda p: p["items"] and p["items"][0]["status"] != "running",
    )
    event: dict[str, Any] = page["items"][0]
    assert (event["id"], event["status"]) == (started["id"], "fired"), event
    return event


def _seed(admin: httpx.Client) -> tuple[int, dict[str, Any]]:
    items = [{"input": {"ticket": t}, "expected": a} for t, a in ANSWERS.items()]
    _ok(admin.post(f"/v1/datasets/{DATASET}/versions", json=items), 201)
    suite = {
        "name": SUITE,
        "dataset": DATASET,
        "scorers": [{"name": "correct", "type": "exact_match"}],
        "gates": [{"metric": "correct", "aggregate": "mean", "op": ">=", "value": 0.9}],
    }
    _ok(admin.post("/v1/suites", json=suite), 201)
    for config in (GOOD, BROKEN):
        body = {"messages": MESSAGES, "config": config}
        _ok(admin.post(f"/v1/prompts/{PROMPT}/versions", json=body), 201)
    policy = {"required_suites": [SUITE], "auto_rollback": True}
    _ok(admin.put(f"/v1/policies/{LABEL}", json=policy))
    run = _ok(admin.post("/v1/runs", json={"suite": SUITE, "prompt": PROMPT, "version": 1}), 202)
    _until(admin, f"/v1/runs/{run['id']}", lambda r: r["status"] == "completed")
    _ok(admin.put(f"/v1/prompts/{PROMPT}/labels/{LABEL}", json={"version": 1, "reason": "ok"}))
    monitor = {"name": MONITOR, "prompt": PROMPT, "label": LABEL, "trigger": "schedule"}
    _ok(admin.post("/v1/monitors", json={**monitor, "cron": "0 3 * * *"}), 201)
    signal = {"name": "errors", "label": LABEL, "trigger": "signal", "signal": SIGNAL}
    _ok(admin.post("/v1/monitors", json={**signal, "enabled": False}), 201)
    event = _fire(admin)
    return int(event["evidence"]["incident_id"]), event


@pytest.fixture(scope="module")
def fired(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fired]:
    tmp = tmp_path_factory.mktemp("incidents")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
        monitor_interval="0.5",
    )
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as admin:
            incident_id, event = _seed(admin)
            keys = {
                role: _ok(admin.post("/v1/keys", json={"name": f"i-{role}", "role": role}), 201)
                for role in ("reader", "writer")
            }
        yield Fired(server, keys["reader"]["key"], keys["writer"]["key"], incident_id, event)
    finally:
        server.stop()


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_badge_incident_evidence_then_a_writer_resolves(tab: Tab, fired: Fired) -> None:
    page, base = tab.page, fired.server.url
    page.goto(f"{base}/console/prompts/{PROMPT}")
    sign_in(page, fired.writer_key)
    expect(page.locator("#nav a")).to_have_text([*NAV[:-2], "Calls", "Traces", "Dashboard"])
    # Rolled back to v1, with the open incident's badge on the label.
    row = page.locator(f'#label-table tr[data-label="{LABEL}"]')
    expect(row.locator("td a").first).to_have_text("v1")
    badge = row.locator("a.incident-badge")
    expect(badge).to_have_text("incident")
    expect(badge).to_have_attribute("href", f"/console/incidents/{fired.incident_id}")
    badge.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/console/incidents/{fired.incident_id}")
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Incidents")
    expect(page.locator("#incident-status")).to_have_text("open")
    expect(page.locator("#incident-resolved")).to_have_text("not yet")

    # The firing: its run (failed), the version checked, the rollback linked to the history.
    firing = page.locator(f'#incident-firings article[data-event="{fired.event["id"]}"]')
    expect(firing.locator("h3")).to_contain_text(f"by {MONITOR}")
    run_id = fired.event["evidence"]["runs"][0]["run_id"]
    run = firing.locator(f'a[href="/console/runs/{run_id}"]')
    expect(run).to_have_text(f"run #{run_id}")
    expect(firing.locator(".evidence")).to_contain_text(f"({SUITE} v1): failed")
    expect(firing.locator(".rollback")).to_contain_text(f"moved {LABEL} v2 → v1")
    expect(firing.locator(".rollback-history")).to_have_attribute(
        "href", f"/console/prompts/{PROMPT}?label={LABEL}"
    )
    run.click()
    expect(page).to_have_url(f"{base}/console/runs/{run_id}")
    expect(page.locator("#run-summary")).to_contain_text("failed")
    page.go_back()
    page.locator(".rollback-history").click()
    newest = page.locator("#history-table tbody tr").first
    expect(newest.locator("td").nth(1)).to_have_text("v2 → v1")
    expect(newest.locator("td").nth(2)).to_contain_text(f"monitor:{MONITOR}")
    page.go_back()

    # Resolve: a blank reason is stopped in the page, then the server's verdict is shown.
    expect(page.locator("#resolve-form")).to_be_visible()
    page.click("#resolve-submit")
    expect(page.locator("#resolve-verdict .problem-title")).to_have_text("A reason is required")
    expect(page.locator("#resolve-reason")).to_be_focused()
    assert not [u for u in tab.requests if u.endswith("/resolve")]
    page.fill("#resolve-reason", "v1 is back; the provider fixed the model")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#resolve-done")).to_have_text(
        f"Incident #{fired.incident_id} resolved by i-writer."
    )
    expect(page.locator("#incident-status")).to_have_text("resolved")
    expect(page.locator("#incident-reason")).to_have_text(
        "v1 is back; the provider fixed the model"
    )
    expect(page.locator("#resolve-form")).to_have_count(0)

    # The list: resolved, by whom; no badge left on the prompt page.
    page.locator(".crumbs a").click()
    item = page.locator(f'#incident-table tr[data-incident="{fired.incident_id}"] td')
    expect(item.nth(1)).to_have_text(PROMPT)
    expect(item.nth(2)).to_have_text(LABEL)
    expect(item.nth(4)).to_have_text("1")
    expect(item.nth(5)).to_have_text("resolved")
    expect(item.nth(6)).to_contain_text("by i-writer")
    page.select_option("#filter-state", "open")
    page.click("#incident-filters button")
    expect(page).to_have_url(f"{base}/console/incidents?state=open")
    expect(page.locator("#incident-results .state")).to_have_text("No open incidents yet.")
    page.goto(f"{base}/console/prompts/{PROMPT}")
    expect(page.locator(f'#label-table tr[data-label="{LABEL}"] td a')).to_have_text("v1")
    expect(page.locator("a.incident-badge")).to_have_count(0)
    assert tab.errors == []

    # The server holds the same line: resolved twice is refused, shown as its problem.
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as admin:
        again = admin.post(f"/v1/incidents/{fired.incident_id}/resolve", json={"reason": "x"})
        assert again.status_code == 409, again.text


def test_reader_reads_incidents_and_monitors_without_forms(tab: Tab, fired: Fired) -> None:
    page, base = tab.page, fired.server.url
    page.goto(f"{base}/console/incidents/{fired.incident_id}")
    sign_in(page, fired.reader_key)
    expect(page.locator("#nav a")).to_have_text(NAV)
    expect(page.locator("#incident-facts")).to_contain_text(PROMPT)
    expect(page.locator("#incident-firings article")).to_have_count(1)
    expect(page.locator("#resolve-form")).to_have_count(0)

    # Monitors: both listed read-only, the triggered one with its fired check.
    page.locator("#nav a", has_text="Monitors").click()
    expect(page.locator("#monitors-read-only")).to_contain_text("promptlane monitors create")
    rows = page.locator("#monitor-table tbody tr")
    expect(rows).to_have_count(2)
    nightly = page.locator(f'#monitor-table tr[data-monitor="{MONITOR}"] td')
    expect(nightly.nth(1)).to_have_text(f"{PROMPT} · {LABEL}")
    expect(nightly.nth(2)).to_have_text("schedule")
    expect(nightly.nth(3)).to_have_text("cron 0 3 * * *")
    expect(nightly.nth(4)).to_have_text("yes")
    expect(nightly.nth(5)).to_have_text(re.compile(r"03:00:00 UTC$"))
    expect(nightly.nth(6).locator(".badge")).to_have_text("fired")
    errors = page.locator('#monitor-table tr[data-monitor="errors"] td')
    expect(errors.nth(1)).to_have_text(f"{LABEL} of every prompt")
    expect(errors.nth(3)).to_contain_text("error_rate > 0.05 over 3600 s")
    expect(errors.nth(4)).to_have_text("paused")
    expect(errors.nth(6)).to_have_text("none yet")
    expect(page.locator("main form, main button")).to_have_count(0)

    # The monitor's page: its check, the evidence and the incident it opened.
    nightly.nth(0).locator("a").click()
    expect(page.locator("h1")).to_have_text(MONITOR)
    check = page.locator(f'#event-table tr[data-event="{fired.event["id"]}"] td')
    expect(check.nth(1)).to_have_text("fired")
    expect(check.nth(2)).to_have_text(re.compile(r"^manual:"))
    expect(check.nth(3)).to_have_text(f"{PROMPT}@v2 ({LABEL})")
    expect(check.nth(5)).to_contain_text(f"({SUITE} v1): failed")
    check.nth(6).locator("a").click()
    expect(page).to_have_url(f"{base}/console/incidents/{fired.incident_id}")
    page.goto(f"{base}/console/monitors/{MONITOR}?status=ok")
    expect(page.locator("#filter-status")).to_have_value("ok")
    expect(page.locator("#event-results .state")).to_have_text("No ok checks.")

    # 800 px: nothing wider than the window on any of the new pages.
    page.set_viewport_size({"width": 800, "height": 900})
    for path in ("/console/monitors", f"/console/monitors/{MONITOR}", "/console/incidents"):
        page.goto(base + path)
        expect(page.locator("main table, main .state").first).to_be_visible()
        fits(page)
    page.goto(f"{base}/console/incidents/{fired.incident_id}")
    expect(page.locator("#incident-firings article")).to_have_count(1)
    fits(page)
    assert tab.errors == []


def test_unknown_incident_and_monitor_show_the_problem(tab: Tab, fired: Fired) -> None:
    page, base = tab.page, fired.server.url
    page.goto(f"{base}/console/incidents/999999")
    sign_in(page, fired.reader_key)
    expect(page.locator("#incident-box .problem-title")).to_contain_text("(404)")
    page.goto(f"{base}/console/incidents/nope")
    expect(page.locator("#incident-box .problem-title")).to_contain_text("(422)")
    page.goto(f"{base}/console/monitors/nowhere")
    expect(page.locator("#monitor-box .problem-title")).to_contain_text("(404)")
    expect(page.locator("#event-results")).to_be_hidden()
    page.goto(f"{base}/console/incidents?state=open&prompt=" + "x" * 300)
    expect(page.locator("#incident-results .problem-title")).to_contain_text("(422)")
    assert all("404" in e or "422" in e for e in tab.errors), tab.errors


def test_open_first_and_a_resolve_that_lost_the_race_shows_the_409(tab: Tab, fired: Fired) -> None:
    page, base = tab.page, fired.server.url
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as admin:
        if _ok(admin.get(f"/v1/incidents/{fired.incident_id}"))["is_open"]:
            reason = {"reason": "closed first"}
            _ok(admin.post(f"/v1/incidents/{fired.incident_id}/resolve", json=reason))
        second = int(_fire(admin)["evidence"]["incident_id"])
        assert second != fired.incident_id  # a firing after a resolve opens a new one
        page.goto(f"{base}/console/incidents")
        sign_in(page, fired.writer_key)
        rows = page.locator("#incident-table tbody tr")
        expect(rows.first).to_have_attribute("data-incident", str(second))
        expect(rows.first.locator(".badge")).to_have_text("open")
        expect(page.locator(f'tr[data-incident="{fired.incident_id}"] .badge')).to_have_text(
            "resolved"
        )
        rows.first.locator("a").first.click()
        expect(page.locator("#resolve-form")).to_be_visible()
        _ok(admin.post(f"/v1/incidents/{second}/resolve", json={"reason": "an admin was first"}))
    page.fill("#resolve-reason", "me too")
    page.click("#resolve-submit")
    verdict = page.locator("#resolve-verdict")
    expect(verdict.locator(".problem-title")).to_contain_text("(409)")
    expect(verdict.locator(".problem-detail")).to_contain_text("by bootstrap-admin")
    expect(page.locator("#resolve-submit")).to_be_enabled()

    # The prompt and label filters (exact names), from the keyboard.
    page.locator(".crumbs a").click()
    page.fill("#filter-prompt", PROMPT)
    page.fill("#filter-label", "staging")
    page.press("#filter-label", "Enter")
    expect(page).to_have_url(f"{base}/console/incidents?prompt=ops%2Ftriage&label=staging")
    expect(page.locator("#incident-results .state")).to_have_text(
        "No incidents match these filters."
    )
    page.fill("#filter-label", LABEL)
    page.press("#filter-label", "Enter")
    expect(rows).to_have_count(2)
    expect(page.locator("#filter-prompt")).to_have_value(PROMPT)
    assert all("409" in e for e in tab.errors), tab.errors
