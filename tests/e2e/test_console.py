"""The console in real headless Chromium (tests/e2e/browser.py) against a real server."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.conftest import DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.console_seed import BULK, PROMPT, SUITE, Seeded, seed
from tests.e2e.server import start_server

pytestmark = pytest.mark.e2e

# What a reader's nav holds: only pages that exist (Calls needs a writer: calls may hold content).
NAV = [
    *("Prompts", "Runs", "Suites", "Datasets", "Incidents", "Monitors"),
    *("Playground", "Traces", "Dashboard"),
]
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "console.png"
# Read at import: the autouse fixture hides PROMPTLANE_* variables from the tests themselves.
UPDATE_SCREENSHOTS = os.environ.get("PROMPTLANE_UPDATE_SCREENSHOTS") == "1"


@pytest.fixture(scope="module")
def seeded(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    from tests.conftest import ADMIN_KEY

    tmp = tmp_path_factory.mktemp("console")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    try:
        yield seed(server)
    finally:
        server.stop()


def sign_in(page: Page, key: str) -> None:
    expect(page.locator("#sign-in h1")).to_have_text("Sign in")
    page.fill("#api-key", key)
    page.press("#api-key", "Enter")


def rows(page: Page, table: str) -> list[str]:
    return page.locator(f"#{table} tbody tr").all_inner_texts()


def test_sign_in_then_search_filter_and_page_through(tab: Tab, seeded: Seeded) -> None:
    page = tab.page
    page.goto(seeded.server.url + "/")  # the root sends a browser to the console
    sign_in(page, seeded.reader_key)
    expect(page).to_have_url(seeded.server.url + "/console/prompts")
    expect(page.locator("#who .role")).to_have_text("reader")
    expect(page.locator("#nav a")).to_have_text(NAV)
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Prompts")
    expect(page.locator("#prompt-table tbody tr")).to_have_count(25)
    expect(page.locator(".pager-status")).to_have_text(f"1–25 of {BULK + 1} · page 1 of 2")

    page.click("a[rel=next]")
    expect(page).to_have_url(seeded.server.url + "/console/prompts?page=2")
    expect(page.locator("#prompt-table tbody tr")).to_have_count(2)
    row = page.locator(f'tr[data-prompt="{PROMPT}"]')
    expect(row).to_contain_text("Routes support tickets to a team")
    expect(row.locator(".chip")).to_have_text(
        ["support", "triage", "production → v2", "staging → v3"]
    )
    page.go_back()  # history.pushState: the back button returns to page 1
    expect(page.locator("#prompt-table tbody tr")).to_have_count(25)

    page.fill("#filter-tag", "bulk")
    page.press("#filter-tag", "Enter")
    expect(page).to_have_url(seeded.server.url + "/console/prompts?tag=bulk")
    expect(page.locator(".pager-status")).to_have_text(f"1–25 of {BULK} · page 1 of 2")
    page.fill("#filter-tag", "")
    page.fill("#filter-q", "TRIAGE")
    page.fill("#filter-label", "production")
    page.click("#prompt-filters button")
    expect(page.locator("#prompt-table tbody tr")).to_have_count(1)
    page.goto(seeded.server.url + "/console/prompts?page=9")  # past the end: a way back
    expect(page.locator("#prompt-results .state")).to_have_text("No prompts on this page.")
    expect(page.locator("a[rel=prev]")).to_be_visible()
    page.goto(seeded.server.url + "/console/prompts?label=nowhere")  # a shared URL, reloaded
    expect(page.locator("#prompt-results")).to_have_text("No prompts match these filters.")
    assert page.input_value("#filter-label") == "nowhere"

    # The key lives in this tab's session only; signing out forgets it.
    stored = page.evaluate("Object.values(sessionStorage)")
    assert stored == [seeded.reader_key]
    assert page.evaluate("localStorage.length + document.cookie.length") == 0
    page.click("#sign-out")
    expect(page.locator("#sign-in-status")).to_contain_text("Signed out")
    assert page.evaluate("sessionStorage.length") == 0
    assert tab.errors == []
    assert [u for u in tab.requests if not u.startswith(seeded.server.url + "/")] == []


def test_prompt_page_versions_labels_history_and_render(tab: Tab, seeded: Seeded) -> None:
    page = tab.page
    page.goto(f"{seeded.server.url}/console/prompts/{PROMPT}")  # a deep link, before sign-in
    sign_in(page, seeded.writer_key)
    expect(page.locator("h1")).to_have_text(PROMPT)
    expect(page.locator("#who .role")).to_have_text("writer")
    expect(page.locator("#version-table tbody tr")).to_have_count(3)
    expect(page.locator("#version-table tr[aria-current=true]")).to_have_attribute(
        "data-version", "3"
    )
    first = page.locator('#version-table tr[data-version="1"] td')
    expect(first.nth(1)).to_have_text("bootstrap-admin")
    expect(first.nth(3)).to_have_text("first cut")
    expect(first.nth(4)).to_have_text(re.compile(r"[0-9a-f]{12}"))  # the content hash, shortened
    expect(page.locator("#label-table tbody tr")).to_have_text(["productionv2", "stagingv3"])

    # Production's history: the gated move with its run, the forced one with its reason.
    history = page.locator("#history-table tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(0).locator("td").nth(1)).to_have_text("v1 → v2")
    expect(history.nth(0).locator(".evidence")).to_have_text(f"{SUITE} v1: run #{seeded.run_id}")
    evidence = history.nth(0).locator(".evidence a")
    expect(evidence).to_have_attribute("href", f"/console/runs/{seeded.run_id}")
    evidence.click()  # the run that let v2 in, and back
    expect(page.locator("h1")).to_have_text(f"Run #{seeded.run_id}")
    expect(page.locator(".run-page")).to_have_attribute("data-status", "completed")
    page.go_back()
    expect(history.nth(1)).to_contain_text("hotfix before the run")
    expect(history.nth(1).locator(".badge")).to_have_text("forced")
    expect(history.nth(1).locator("td").nth(2)).to_have_text("bootstrap-admin (admin)")
    page.select_option("#history-label", "staging")
    expect(page).to_have_url(
        f"{seeded.server.url}/console/prompts/{PROMPT}?version=3&label=staging"
    )
    expect(page.locator("#history-table tbody tr")).to_have_count(1)

    # v3 has a JSON schema: one typed field per property; the server renders or explains.
    expect(page.locator("#render-form .field")).to_have_count(2)
    assert page.get_attribute("#var-priority", "type") == "number"
    page.fill("#var-ticket", "printer on fire")
    page.fill("#var-priority", "2")
    page.click("#render-form button")
    expect(page.locator("#render-output .message pre")).to_have_text(["[2] printer on fire"])
    if UPDATE_SCREENSHOTS:  # refresh the docs' copy
        page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)
    page.fill("#var-priority", "")
    page.click("#render-form button")
    problem = page.locator("#render-output .problem")
    expect(problem.locator(".problem-title")).to_contain_text("(422)")
    expect(problem).to_contain_text("priority")

    # v1 (picked by its link) has no schema: a JSON textarea, checked before it is sent.
    page.click('#version-table tr[data-version="1"] a')
    expect(page.locator("#selected-title")).to_have_text("Version 1")
    expect(page.locator("#version-content .message pre")).to_have_text(
        ["You triage tickets.", "Triage: {{ticket}}"]
    )
    assert json.loads(page.input_value("#variables-json")) == {"ticket": ""}
    page.fill("#variables-json", "{nope")
    page.click("#render-form button")
    expect(page.locator("#render-output .problem-title")).to_have_text("Invalid JSON")
    page.fill("#variables-json", '{"ticket": "refund"}')
    page.click("#render-form button")
    expect(page.locator("#render-output .message pre")).to_have_text(
        ["You triage tickets.", "Triage: refund"]
    )

    # can(): what later pages ask before showing an action.
    can = "async (a) => (await import('/console/assets/core.js')).can(a)"
    assert page.evaluate(can, "labels.move") is True
    assert page.evaluate(can, "keys.manage") is False
    assert all("status of 422" in e for e in tab.errors), tab.errors  # the browser's own note


def test_diff_by_url(tab: Tab, seeded: Seeded) -> None:
    page = tab.page
    page.goto(f"{seeded.server.url}/console/prompts/{PROMPT}/diff?a=1&b=2")
    sign_in(page, seeded.reader_key)
    expect(page.locator("h1")).to_have_text(f"Diff: {PROMPT}")
    system = page.locator('.message-diff[data-index="0"]')
    expect(system.locator("h3")).to_have_text("Message 1: system")
    expect(system.locator("tbody tr")).to_have_count(2)
    changed = system.locator("tbody tr.changed td")
    expect(changed).to_have_text(["1", "You triage tickets.", "1", "You triage support tickets."])
    expect(system.locator("tbody tr.added td.code")).to_have_text(["", "Be brief."])
    config = page.locator("#config-diff tbody tr")
    expect(config).to_have_text(["max_tokensadded–50", "temperaturechanged00.2"])

    # Chat against a different shape: the missing message is shown as removed.
    page.fill("#a", "2")
    page.fill("#b", "3")
    page.click("#diff-pick button")
    expect(page).to_have_url(f"{seeded.server.url}/console/prompts/{PROMPT}/diff?a=2&b=3")
    expect(page.locator('.message-diff[data-index="1"] h3')).to_have_text(
        "Message 2: user (removed)"
    )
    expect(page.locator('.message-diff[data-index="0"] h3')).to_have_text(
        "Message 1: system → user"
    )

    # A text prompt has one template to compare.
    page.goto(f"{seeded.server.url}/console/prompts/bulk/p00/diff?a=1&b=1")
    expect(page.locator(".message-diff h3")).to_have_text("Template (unchanged)")
    expect(page.locator("#diff")).to_contain_text("The config is the same.")

    # A version that does not exist: the problem's title and detail, not a blank page.
    page.goto(f"{seeded.server.url}/console/prompts/{PROMPT}/diff?a=1&b=99")
    expect(page.locator("#diff .problem-title")).to_have_text("Prompt version not found (404)")
    expect(page.locator("#diff .problem-detail")).to_contain_text("99")
    assert all("404" in e for e in tab.errors), tab.errors


def test_diff_functions(tab: Tab, seeded: Seeded) -> None:
    page = tab.page
    page.goto(f"{seeded.server.url}/console/assets/style.css")  # same origin, no app running
    got = page.evaluate(
        """async () => {
          const d = await import('/console/assets/diff.js');
          const ops = d.diffLines(["a", "b", "c"], ["a", "x", "c", "d"]);
          return {
            ops: ops.map((o) => o.op + o.line),
            rows: d.sideBySide(ops).map((r) => r.kind),
            config: d.diffConfig({t: 0, o: {a: 1}, gone: true}, {t: 0, o: {a: 2}, n: [1]}),
          };
        }"""
    )
    assert got["ops"] == ["samea", "delb", "addx", "samec", "addd"]
    assert got["rows"] == ["same", "changed", "same", "added"]
    assert [(c["key"], c["change"]) for c in got["config"]] == [
        ("gone", "removed"),
        ("n", "added"),
        ("o.a", "changed"),
    ]


def test_bad_key_server_errors_and_a_narrow_window(tab: Tab, seeded: Seeded) -> None:
    page = tab.page
    page.goto(f"{seeded.server.url}/console/prompts")
    sign_in(page, "pl_" + "x" * 30)
    status = page.locator("#sign-in-status")
    expect(status).to_contain_text("The server did not accept this API key.")
    expect(status.locator(".problem-title")).to_have_text("Authentication required (401)")
    assert page.evaluate("sessionStorage.length") == 0

    # A server failure is shown as the problem JSON's title and detail.
    problem = {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "database is down",
    }

    def broken(route: Route) -> None:
        route.fulfill(status=500, content_type="application/problem+json", body=json.dumps(problem))

    page.route("**/v1/prompts?*", broken)
    sign_in(page, seeded.reader_key)
    expect(page.locator("#prompt-results .problem-title")).to_have_text(
        "Internal Server Error (500)"
    )
    expect(page.locator("#prompt-results .problem-detail")).to_have_text("database is down")
    page.unroute("**/v1/prompts?*")

    # 800 px: nothing wider than the window; the keyboard reaches the nav and the table.
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(f"{seeded.server.url}/console/prompts/{PROMPT}")
    expect(page.locator("#version-table tbody tr")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.focus("#nav a")
    page.keyboard.press("Enter")
    expect(page).to_have_url(seeded.server.url + "/console/prompts")
    expect(page.locator("#prompt-table tbody tr")).to_have_count(25)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    listed = sum("/v1/prompts?" in u for u in tab.requests)
    page.focus(".skip")  # the skip link moves focus to the content and reloads nothing
    page.keyboard.press("Enter")
    expect(page).to_have_url(seeded.server.url + "/console/prompts#main")
    assert sum("/v1/prompts?" in u for u in tab.requests) == listed

    # A key refused mid-session (revoked, say) sends back to sign-in with a message.
    page.route(
        "**/v1/prompts?*",
        lambda r: r.fulfill(
            status=401,
            content_type="application/problem+json",
            body=json.dumps({"title": "Unauthorized", "status": 401, "detail": "unknown API key"}),
        ),
    )
    page.click("#prompt-filters button")
    expect(page.locator("#sign-in-status")).to_contain_text("no longer accepts this API key")
    assert page.evaluate("sessionStorage.length") == 0
