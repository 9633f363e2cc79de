"""The console's run comparison in real headless Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.console_runs_seed import (
    MESSAGES,
    PROMPT,
    SUITE,
    RunsSeeded,
    admin_client,
    seed_runs,
    wait_for,
)
from tests.e2e.server import start_server
from tests.e2e.test_console import sign_in

pytestmark = pytest.mark.e2e
REGRESSED = [0, 2, 4]  # right with the scripted model (v1), wrong with the echo model (v2)


@dataclass(frozen=True)
class Compared:
    """The seeded runs, and the base (v1, scripted) and head (v2, echo) runs' ids."""

    seeded: RunsSeeded
    base: int
    head: int


@pytest.fixture(scope="module")
def compared(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Compared]:
    tmp = tmp_path_factory.mktemp("console-compare")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    try:
        with admin_client(server) as admin:
            seeded = seed_runs(server, admin)
            echo = {"messages": MESSAGES, "config": {"model": "offline/echo", "temperature": 0}}
            published = admin.post(f"/v1/prompts/{PROMPT}/versions", json=echo)
            assert published.status_code == 201, published.text
            started = admin.post("/v1/runs", json={"suite": SUITE, "prompt": PROMPT, "version": 2})
            assert started.status_code == 202, started.text
            head = int(started.json()["id"])
            wait_for(admin, head, ("completed", "failed"))
            yield Compared(seeded, seeded.run_id, head)
    finally:
        server.stop()


def test_pick_two_runs_then_compare_metrics_and_items(tab: Tab, compared: Compared) -> None:
    page, url, base, head = tab.page, compared.seeded.server.url, compared.base, compared.head
    page.goto(url + "/console/runs")
    sign_in(page, compared.seeded.reader_key)
    expect(page.locator("#compare-pick")).to_contain_text("Tick two runs")
    page.check(f'#run-table input[aria-label="Compare run #{head}"]')
    page.check(f'#run-table input[aria-label="Compare run #{base}"]')
    link = page.locator("#compare-link")
    expect(link).to_have_text(f"Compare run #{base} with run #{head}")  # the older is the base
    link.click()
    expect(page).to_have_url(f"{url}/console/runs/compare?base={base}&head={head}")
    expect(page.locator("h1")).to_have_text(f"Compare run #{base} with run #{head}")
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Runs")

    prompts = page.locator('#compare-runs-table tr[data-fact="Prompt"] td')
    expect(prompts).to_have_text([f"{PROMPT}@v1", f"{PROMPT}@v2"])
    metric = page.locator('#compare-metrics tr[data-metric="correct"] td')
    expect(metric).to_have_text(["0.5", "0", "-0.5", "mean >= 0.9: fail", "mean >= 0.9: fail"])

    # Every item, with the three that passed in the base and fail in the head marked.
    rows = page.locator("#compare-items tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator("#compare-counts")).to_contain_text("3 of 6 items changed")
    flipped = page.locator('#compare-items tr[data-change="regressed"]')
    expect(flipped).to_have_count(3)
    assert [flipped.nth(i).get_attribute("data-position") for i in range(3)] == ["0", "2", "4"]
    first = page.locator('#compare-items tr[data-position="0"] td')
    expect(first.nth(1)).to_have_text("pass → fail")
    expect(first.nth(2)).to_contain_text("ticket 0")
    expect(first.nth(3)).to_have_text("billing")
    expect(first.nth(4)).to_have_text("billing")  # the base's answer
    expect(first.nth(5)).to_contain_text("correct: 1 pass")
    expect(first.nth(6)).to_have_text("Triage: ticket 0")  # the head's (echo) answer
    expect(first.nth(7)).to_contain_text("correct: 0 fail")
    expect(page.locator('#compare-items tr[data-position="1"] td').nth(1)).to_have_text("–")
    expect(page.locator('#compare-items tr[data-position="5"] td').nth(4)).to_contain_text("render")

    # Only the changed items; the URL says so, and reloading it shows the same.
    page.click("#compare-filter")
    changed = f"{url}/console/runs/compare?base={base}&head={head}&changed=1"
    expect(page).to_have_url(changed)
    expect(page.locator("#compare-items-title")).to_have_text("Changed items")
    for _ in range(2):
        expect(rows).to_have_count(3)
        expect(page.locator('#compare-items tr[data-change="regressed"]')).to_have_count(3)
        expect(page.locator('#compare-items tr[data-position="1"]')).to_have_count(0)
        page.reload()
    expect(page).to_have_url(changed)
    expect(page.locator(".pager-status")).to_have_text("1–3 of 3 · page 1 of 1")
    page.set_viewport_size({"width": 800, "height": 900})  # tables scroll inside their frame
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.click("#compare-swap")
    expect(page).to_have_url(f"{url}/console/runs/compare?base={head}&head={base}")
    fixed = page.locator('#compare-items tr[data-change="fixed"] td:nth-child(2)')
    expect(fixed).to_have_text(["fail → pass"] * 3)
    assert tab.errors == []


def test_compare_with_the_previous_run_from_a_run_page(tab: Tab, compared: Compared) -> None:
    page, url, base, head = tab.page, compared.seeded.server.url, compared.base, compared.head
    page.goto(f"{url}/console/runs/{head}")
    sign_in(page, compared.seeded.reader_key)
    expect(page.locator("#compare-with-id")).to_have_value(str(base))
    previous = page.locator("#compare-previous a")
    expect(previous).to_have_text(f"Compare with the previous run (#{base}, {PROMPT}@v1)")
    previous.click()
    expect(page).to_have_url(f"{url}/console/runs/compare?base={base}&head={head}")
    expect(page.locator("#compare-items tbody tr")).to_have_count(6)
    page.goto(f"{url}/console/runs/{base}")  # the first run has none before it
    expect(page.locator("#run-summary")).to_be_visible()
    expect(page.locator("#compare-previous")).to_have_text("")
    expect(page.locator("#compare-with-id")).to_have_value("")
    assert tab.errors == []


def test_an_unknown_or_missing_run_shows_the_problem(tab: Tab, compared: Compared) -> None:
    page, url, base = tab.page, compared.seeded.server.url, compared.base
    page.goto(f"{url}/console/runs/{base}")
    sign_in(page, compared.seeded.reader_key)
    page.fill("#compare-with-id", "424242")
    page.press("#compare-with-id", "Enter")
    expect(page).to_have_url(f"{url}/console/runs/compare?base=424242&head={base}")
    expect(page.locator(".problem-title")).to_have_text("Run not found (404)")
    expect(page.locator(".problem-detail")).to_contain_text("424242")
    page.goto(f"{url}/console/runs/compare?base=x&head={base}")  # a hand-edited URL
    expect(page.locator("#compare-body")).to_contain_text("Pick two runs by id")
    expect(page.locator("#compare-base")).to_have_value("")
    page.fill("#compare-base", str(base))
    page.click("#compare-runs button")
    expect(page).to_have_url(f"{url}/console/runs/compare?base={base}&head={base}")
    expect(page.locator("#compare-counts")).to_contain_text("0 of 6 items changed")
    assert all("404" in e for e in tab.errors), tab.errors
