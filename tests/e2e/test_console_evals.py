"""The console's Evaluations pages (datasets, suites, starting a run) in real headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.console_evals_seed import (
    BIG,
    BIG_ITEMS,
    JUDGE,
    JUDGED,
    PROMPT,
    QUICK,
    SMALL,
    SMALL_ITEMS,
    EvalsSeeded,
    admin_client,
    seed_evals,
)
from tests.e2e.server import start_server
from tests.e2e.test_console import NAV, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EvalsSeeded]:
    tmp = tmp_path_factory.mktemp("console-evals")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    try:
        with admin_client(server) as admin:
            yield seed_evals(server, admin)
    finally:
        server.stop()


def item_requests(tab: Tab, version: int) -> list[dict[str, list[str]]]:
    """Return the query of every request the page made for a version's items."""
    path = f"/v1/datasets/{BIG}/versions/{version}"
    return [parse_qs(urlsplit(u).query) for u in tab.requests if urlsplit(u).path == path]


def runs_total(seeded: EvalsSeeded) -> int:
    total: int = seeded.admin.get("/v1/runs", params={"limit": 1}).json()["total"]
    return total


def test_browse_datasets_then_a_version_then_a_page_of_items(tab: Tab, seeded: EvalsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(url + "/console/datasets")
    sign_in(page, seeded.reader_key)
    expect(page.locator("#nav a")).to_have_text(NAV)
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Datasets")
    row = page.locator(f'#dataset-table tr[data-dataset="{BIG}"] td')
    expect(row.nth(2)).to_have_text("v2")  # the current version, pushed last
    expect(row.nth(3)).to_have_text(str(SMALL_ITEMS))  # its items, not v1's
    expect(row.nth(4)).to_contain_text("UTC")
    expect(page.locator(".pager-status")).to_have_text("1–2 of 2 · page 1 of 1")
    page.fill("#dataset-filters-q", "small")
    page.press("#dataset-filters-q", "Enter")
    expect(page).to_have_url(url + "/console/datasets?q=small")
    expect(page.locator("#dataset-table tbody tr")).to_have_count(1)
    page.goto(url + "/console/datasets?q=nothing-like-it")
    expect(page.locator("#dataset-results")).to_have_text("No datasets match this search.")
    page.goto(url + "/console/datasets")
    row.first.locator("a").click()

    # The dataset's page: both versions, the current one's items.
    expect(page).to_have_url(f"{url}/console/datasets/{BIG}")
    expect(page.locator("h1")).to_have_text(BIG)
    versions = page.locator("#dataset-versions tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.nth(0).locator("td").nth(1)).to_have_text(str(SMALL_ITEMS))
    expect(versions.nth(1).locator("td").nth(3)).to_have_text("the big one")
    expect(versions.nth(0)).to_have_attribute("aria-current", "true")
    expect(page.locator("#items-title")).to_have_text("Items of v2 (current)")
    expect(page.locator("#dataset-items tbody tr")).to_have_count(SMALL_ITEMS)

    # Version 1 by its link, then page 2 of its items by URL alone: 50 items, read as one page.
    versions.nth(1).locator("a").click()
    expect(page).to_have_url(f"{url}/console/datasets/{BIG}?version=1")
    expect(page.locator("#items-title")).to_have_text("Items of v1")
    expect(page.locator("#dataset-items tbody tr")).to_have_count(50)
    expect(page.locator("#dataset-items-box .pager-status")).to_have_text(
        f"1–50 of {BIG_ITEMS} · page 1 of 3"
    )
    page.goto(f"{url}/console/datasets/{BIG}?version=1&page=2")
    items = page.locator("#dataset-items tbody tr")
    expect(items).to_have_count(50)
    expect(items.first).to_have_attribute("data-position", "50")
    expect(items.first.locator(".item-input")).to_contain_text('"ticket": "ticket 50"')
    expect(items.first.locator(".item-expected")).to_have_text("answer 50")
    expect(page.locator("#dataset-versions tr[aria-current=true]")).to_have_attribute(
        "data-version", "1"
    )
    page.click("#dataset-items-box a[rel=next]")
    expect(page).to_have_url(f"{url}/console/datasets/{BIG}?version=1&page=3")
    expect(items).to_have_count(BIG_ITEMS - 100)
    # Every request for the items asked for one page, never the whole version.
    asked = item_requests(tab, 1)
    assert [(q["limit"], q["offset"]) for q in asked] == [
        (["50"], ["0"]),
        (["50"], ["50"]),
        (["50"], ["100"]),
    ]
    page.set_viewport_size({"width": 800, "height": 900})
    expect(items).to_have_count(BIG_ITEMS - 100)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert tab.errors == []


def test_a_missing_dataset_or_version_shows_the_problem(tab: Tab, seeded: EvalsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(f"{url}/console/datasets/{BIG}?version=9")
    sign_in(page, seeded.reader_key)
    expect(page.locator("#dataset-versions tbody tr")).to_have_count(2)  # still listed
    expect(page.locator("#dataset-items-box .problem-title")).to_contain_text("(404)")
    expect(page.locator("#dataset-items-box .problem-detail")).to_contain_text("9")
    page.goto(f"{url}/console/datasets/evals/nothing")
    expect(page.locator("#dataset-versions-box .problem-title")).to_contain_text("(404)")
    expect(page.locator("#dataset-versions-box .problem-detail")).to_contain_text("evals/nothing")
    page.goto(f"{url}/console/suites/evals/nothing")
    expect(page.locator("#suite-body .problem-title")).to_contain_text("(404)")
    page.goto(f"{url}/console/suites/{JUDGED}?version=7")
    expect(page.locator("#suite-body .state")).to_have_text(
        "This suite has no version 7; showing v2."
    )
    expect(page.locator("#spec-title")).to_have_text("Version 2 (current)")
    assert all("404" in e for e in tab.errors), tab.errors


def test_a_suite_page_shows_its_pins_and_links_and_no_form_for_a_reader(
    tab: Tab, seeded: EvalsSeeded
) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(url + "/console/suites")
    sign_in(page, seeded.reader_key)
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Suites")
    row = page.locator(f'#suite-table tr[data-suite="{JUDGED}"] td')
    expect(row.nth(1)).to_have_text("Tickets, judged")
    expect(row.nth(2)).to_have_text("v2")
    row.first.locator("a").click()
    expect(page).to_have_url(f"{url}/console/suites/{JUDGED}")
    expect(page.locator("h1")).to_have_text(JUDGED)

    # Both versions pin dataset v1 (named in the suite); v2 also pins the judge's version.
    versions = page.locator("#suite-versions tbody tr")
    expect(versions).to_have_count(2)
    expect(page.locator("#start-run")).to_have_count(0)  # a reader sees no start form
    expect(page.locator("#start-title")).to_have_count(0)
    expect(versions.nth(0).locator("td").first).to_have_text("v2current")
    for i in range(2):
        expect(versions.nth(i).locator("a.dataset-pin")).to_have_attribute(
            "href", f"/console/datasets/{BIG}?version=1"
        )
    expect(versions.nth(0).locator("a.judge-pin")).to_have_attribute(
        "href", f"/console/prompts/{JUDGE}?version=1"
    )
    expect(versions.nth(1).locator("a.judge-pin")).to_have_count(0)
    expect(page.locator("#spec-title")).to_have_text("Version 2 (current)")
    judge = page.locator(f'#suite-judges tr[data-ref="{JUDGE}@production"] td')
    expect(judge.first).to_have_text(f"{JUDGE}@v1")
    gates = page.locator("#suite-gates tbody tr")
    expect(gates).to_have_count(2)
    expect(gates.nth(1).locator("td")).to_have_text(["p50", ">= 0.5"])
    expect(page.locator('#suite-scorers tr[data-metric="judged"] td').first).to_have_text(
        "llm_judge"
    )
    expect(page.locator("#suite-facts")).to_contain_text(f"{BIG}@v1")

    # An older version by URL; its own spec, no judges.
    page.goto(f"{url}/console/suites/{JUDGED}?version=1")
    expect(page.locator("#spec-title")).to_have_text("Version 1")
    expect(page.locator("#suite-gates tbody tr")).to_have_count(1)
    expect(page.locator("#suite-version")).to_contain_text("No judge prompts")
    expect(page.locator("#suite-body")).not_to_contain_text("null")

    # The runs of this suite, then the pinned dataset version's page.
    page.click("#suite-runs")
    expect(page).to_have_url(f"{url}/console/runs?suite={JUDGED.replace('/', '%2F')}")
    expect(page.locator("#filter-suite")).to_have_value(JUDGED)
    expect(page.locator("#run-results")).to_have_text("No runs match these filters.")
    page.go_back()
    page.locator("#suite-versions a.dataset-pin").first.click()
    expect(page).to_have_url(f"{url}/console/datasets/{BIG}?version=1")
    expect(page.locator("#dataset-items tbody tr")).to_have_count(50)
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(f"{url}/console/suites/{JUDGED}")
    expect(versions).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert tab.errors == []


def test_a_writer_starts_a_run_and_follows_it_on_its_page(tab: Tab, seeded: EvalsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(f"{url}/console/suites/{QUICK}")
    sign_in(page, seeded.writer_key)
    expect(page.locator("#start-suite-version")).to_have_value("1")
    page.fill("#start-prompt", PROMPT)
    page.select_option("#start-by", "version")
    page.fill("#start-target", "1")
    page.click("#start-submit")
    expect(page).to_have_url(re.compile(re.escape(f"{url}/console/runs/") + r"\d+$"))
    run_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("h1")).to_have_text(f"Run #{run_id}")
    # The run page follows it live and redraws itself when it ends.
    expect(page.locator(".run-page")).to_have_attribute("data-status", "completed", timeout=30_000)
    expect(page.locator("#run-summary")).to_contain_text(f"{PROMPT}@v1")
    expect(page.locator("#run-summary")).to_contain_text(f"{QUICK}@v1")
    expect(page.locator("#run-summary")).to_contain_text(f"{SMALL}@v1")
    expect(page.locator("#item-table tbody tr")).to_have_count(SMALL_ITEMS)
    run = seeded.admin.get(f"/v1/runs/{run_id}").json()
    assert (run["prompt"], run["version"], run["suite"], run["created_by"]) == (
        PROMPT,
        1,
        QUICK,
        "evals-writer",
    )
    assert run["verdict"] == "passed"

    # By label too: the run records the label it was started with.
    page.goto(f"{url}/console/suites/{QUICK}")
    page.fill("#start-prompt", PROMPT)
    page.select_option("#start-by", "label")
    page.fill("#start-target", "latest")
    page.click("#start-submit")
    expect(page).to_have_url(re.compile(re.escape(f"{url}/console/runs/") + r"\d+$"))
    expect(page.locator("#run-summary")).to_contain_text("(label latest)")
    assert tab.errors == []


def test_a_refused_start_shows_the_problem_and_starts_nothing(
    tab: Tab, seeded: EvalsSeeded
) -> None:
    page, url = tab.page, seeded.server.url
    before = runs_total(seeded)
    page.goto(f"{url}/console/suites/{QUICK}")
    sign_in(page, seeded.writer_key)
    page.fill("#start-prompt", "evals/nope")
    page.fill("#start-target", "1")
    page.click("#start-submit")
    status = page.locator("#start-status")
    expect(status.locator(".problem-title")).to_contain_text("(404)")
    expect(status.locator(".problem-detail")).to_contain_text("evals/nope")
    expect(page.locator("#start-submit")).to_be_enabled()

    # A label that cannot exist: the server's 422, field by field.
    page.fill("#start-prompt", PROMPT)
    page.select_option("#start-by", "label")
    page.fill("#start-target", "Not A Label")
    page.click("#start-submit")
    expect(status.locator(".problem-title")).to_contain_text("(422)")
    expect(status).to_contain_text("Not A Label")
    expect(page).to_have_url(f"{url}/console/suites/{QUICK}")
    assert runs_total(seeded) == before
    assert all("404" in e or "422" in e for e in tab.errors), tab.errors
