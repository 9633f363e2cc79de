"""The console's run pages in real headless Chromium (tests/e2e/browser.py) against a server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.console_runs_seed import (
    DATASET,
    PROMPT,
    SUITE,
    RunsSeeded,
    admin_client,
    seed_runs,
    start_slow_run,
    wait_for,
)
from tests.e2e.server import start_server
from tests.e2e.test_console import NAV, rows, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunsSeeded]:
    tmp = tmp_path_factory.mktemp("console-runs")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    try:
        with admin_client(server) as admin:
            yield seed_runs(server, admin)
    finally:
        server.stop()


def test_a_finished_run_with_a_failing_gate_and_failing_items(tab: Tab, seeded: RunsSeeded) -> None:
    page, url, run_id = tab.page, seeded.server.url, seeded.run_id
    page.goto(url + "/console/runs")
    sign_in(page, seeded.reader_key)
    expect(page.locator("#nav a")).to_have_text(NAV)
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Runs")
    row = page.locator(f'#run-table tr[data-run="{run_id}"] td')
    expect(row.nth(1)).to_have_text("completed")
    expect(row.nth(2)).to_have_text("failed")
    expect(row.nth(3).locator("a")).to_have_attribute(
        "href", f"/console/prompts/{PROMPT}?version=1"
    )
    expect(row.nth(4)).to_have_text(f"{SUITE}@v1")
    expect(row.nth(5)).to_have_text("6/6")
    page.select_option("#filter-status", "running")
    page.click("#run-filters button")
    expect(page).to_have_url(url + "/console/runs?status=running")
    expect(page.locator("#run-results")).to_have_text("No runs match these filters.")
    page.goto(f"{url}/console/runs?prompt={PROMPT}&status=completed")  # a shared URL
    expect(page.locator("#run-table tbody tr")).to_have_count(1)
    page.click(f'#run-table tr[data-run="{run_id}"] a[href="/console/runs/{run_id}"]')

    # The summary, the gate's failing condition with its value and threshold, the metrics.
    expect(page.locator("h1")).to_have_text(f"Run #{run_id}")
    summary = page.locator("#run-summary")
    expect(summary).to_contain_text(f"{PROMPT}@v1")
    expect(summary).to_contain_text(f"{DATASET}@v1")
    expect(page.locator("#run-model")).to_have_text("offline/scripted")
    condition = page.locator('#gate-table tr[data-metric="correct"] td')
    expect(condition).to_have_text(["mean", "0.5", ">= 0.9", "fail", ""])
    expect(page.locator('#metric-table tr[data-metric="correct"] td').first).to_have_text("0.5")

    # Six items; the failures are the two wrong answers and the one that could not render.
    expect(page.locator("#item-table tbody tr")).to_have_count(6)
    page.click("#items-filter")
    expect(page).to_have_url(f"{url}/console/runs/{run_id}?failed=1")
    expect(page.locator("#items-title")).to_have_text("Failing items")
    failing = page.locator("#item-table tbody tr")
    expect(failing).to_have_count(3)
    assert [failing.nth(i).get_attribute("data-position") for i in range(3)] == ["1", "3", "5"]
    expect(failing.nth(2).locator(".error-text")).to_contain_text("render")
    expect(failing.nth(1).locator(".score-reason")).to_have_text(
        "expected 'account', got 'technical'"
    )
    assert "fail" in rows(page, "item-table")[0]

    # An item opens in full (input, expected, output side by side, each score and its reason)
    # from the list, keeping the list's filter, and from its URL alone.
    failing.nth(1).locator("a").click()
    expect(page).to_have_url(f"{url}/console/runs/{run_id}?failed=1&item=3")
    detail = page.locator("#item-detail")
    expect(detail.locator("h2")).to_be_focused()
    detail.locator("a", has_text="Close").click()
    expect(page).to_have_url(f"{url}/console/runs/{run_id}?failed=1")
    expect(page.locator("#item-detail")).to_have_count(0)
    page.goto(f"{url}/console/runs/{run_id}?item=3")
    expect(detail.locator("h2")).to_be_focused()
    expect(detail.locator(".item-expected")).to_have_text("account")
    expect(detail.locator(".item-output")).to_have_text("technical")
    expect(detail.locator(".item-input")).to_contain_text("ticket 3")
    score = detail.locator('.item-scores tr[data-metric="correct"] td')
    expect(score).to_have_text(["0 fail", "expected 'account', got 'technical'", "–"])
    expect(page.locator("#item-table tbody tr")).to_have_count(6)
    page.set_viewport_size({"width": 800, "height": 900})  # tables scroll inside their frame
    expect(page.locator("#item-table tbody tr")).to_have_count(6)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert tab.errors == []


def test_a_running_run_shows_its_progress_live(tab: Tab, seeded: RunsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    run_id = start_slow_run(seeded.admin)
    total = wait_for(seeded.admin, run_id, ("running",))["total"]
    page.goto(f"{url}/console/runs/{run_id}")
    sign_in(page, seeded.reader_key)
    expect(page.locator("#run-live")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")
    progress = page.locator("#run-progress")
    # Counts move on the open page (0 < done < total), then the finished run replaces it.
    page.wait_for_function(
        "(total) => { const done = parseInt(document.getElementById('run-progress')?.textContent);"
        " return done > 0 && done < total; }",
        arg=total,
    )
    expect(progress).to_contain_text(f" of {total} items · 0 errors")
    expect(page.locator(".run-page")).to_have_attribute("data-status", "completed", timeout=20_000)
    expect(page.locator("#run-live")).to_have_count(0)
    expect(page.locator("#item-table tbody tr")).to_have_count(total)
    assert page.evaluate("window.stillTheSamePage") is True  # no reload
    events = [u for u in tab.requests if u.endswith(f"/v1/runs/{run_id}/events")]
    assert len(events) == 1, events  # one stream, no polling
    assert sum(u.endswith(f"/v1/runs/{run_id}") for u in tab.requests) == 2  # first and final
    assert tab.errors == []


def test_a_missing_or_malformed_run_id_shows_the_problem(tab: Tab, seeded: RunsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(f"{url}/console/runs/424242")
    sign_in(page, seeded.reader_key)
    expect(page.locator(".problem-title")).to_have_text("Run not found (404)")
    expect(page.locator(".problem-detail")).to_contain_text("424242")
    page.goto(f"{url}/console/runs/nope")
    expect(page.locator(".problem-title")).to_contain_text("(422)")
    page.goto(f"{url}/console/runs?status=bogus&page=x")  # a hand-edited URL: ignored parts
    expect(page.locator("#filter-status")).to_have_value("")
    expect(page.locator(".pager-status")).to_contain_text("page 1 of 1")
    page.goto(f"{url}/console/runs?page=2")  # past the end: the pager leads back
    expect(page.locator("#run-results .state")).to_have_text("No runs on this page.")
    page.click("a[rel=prev]")
    expect(page).to_have_url(url + "/console/runs")
    expect(page.locator("#run-table tbody tr")).not_to_have_count(0)
    assert all("404" in e or "422" in e for e in tab.errors), tab.errors


def test_the_event_parser_joins_chunks_and_skips_comments(tab: Tab, seeded: RunsSeeded) -> None:
    page = tab.page
    page.goto(f"{seeded.server.url}/console/assets/style.css")  # same origin, no app running
    got = page.evaluate(
        """async () => {
          const { readEvents } = await import('/console/assets/run.js');
          const chunks = ['event: progress\\ndata: {"completed"', ': 1}\\n\\n: keep-alive\\n\\n',
                          'event: done\\ndata: {"id": 7}\\n\\n'];
          const body = new ReadableStream({
            start(c) { for (const t of chunks) c.enqueue(new TextEncoder().encode(t)); c.close(); },
          });
          const seen = [];
          for await (const e of readEvents(new Response(body))) seen.push(e);
          return seen;
        }"""
    )
    assert got == [
        {"event": "progress", "data": {"completed": 1}},
        {"event": "done", "data": {"id": 7}},
    ]
