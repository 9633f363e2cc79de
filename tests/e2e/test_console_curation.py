"""Calls into a dataset from the console, and items' provenance links, in real Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.console_calls_seed import PROMPT, TICKET, TRACE, CallsSeeded, seed_calls
from tests.e2e.console_runs_seed import admin_client
from tests.e2e.server import start_server
from tests.e2e.test_console import sign_in

pytestmark = pytest.mark.e2e
ENCODED = PROMPT.replace("/", "%2F")
DATASET = "curated/triage"


@pytest.fixture(scope="module")
def seeded(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CallsSeeded]:
    tmp = tmp_path_factory.mktemp("console-curation")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
        tracing_record_content="true",  # only calls that kept their messages become items
    )
    try:
        yield seed_calls(server)
    finally:
        server.stop()


def dataset_versions(seeded: CallsSeeded) -> int:
    with admin_client(seeded.server) as admin:
        found = admin.get(f"/v1/datasets/{DATASET}/versions")
    return 0 if found.status_code == 404 else int(found.json()["total"])


def open_panel(page: Page) -> None:
    page.click("#curate summary")
    expect(page.locator("#curate-dataset")).to_be_visible()


def test_dry_run_then_add_then_the_items_link_back(tab: Tab, seeded: CallsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(f"{url}/console/calls?prompt={ENCODED}")
    sign_in(page, seeded.writer_key)
    expect(page.locator("#call-table tbody tr")).to_have_count(3)  # two kept content, one not
    open_panel(page)
    page.fill("#curate-dataset", DATASET)
    page.click("#curate-preview")  # nothing ticked: says so, asks the server nothing
    expect(page.locator("#curate-output .state")).to_contain_text("Tick the calls to add first")

    # The dry run: what would be added and what skipped, with why; nothing is stored.
    page.click("#curate-tick-all")
    page.click("#curate-preview")
    summary = page.locator("#curate-summary")
    expect(summary).to_have_text(
        f"Would add 2 of 3 selected call(s) to a new dataset {DATASET} as a new version."
    )
    skipped = page.locator("#curate-skipped tbody tr")
    expect(skipped).to_have_count(1)
    expect(skipped.locator("td").nth(1)).to_contain_text("no recorded content")
    expect(skipped.locator("a")).to_have_attribute(
        "href", f"/console/calls/{skipped.get_attribute('data-call')}"
    )
    expect(page.locator("#curate-confirm")).to_be_focused()
    assert dataset_versions(seeded) == 0

    # A tick changed after the preview: the preview is gone, so is its button.
    page.locator(".call-tick").first.uncheck()
    expect(page.locator("#curate-confirm")).to_have_count(0)
    page.click("#curate-tick-all")
    page.fill("#curate-message", "from production")
    page.click("#curate-preview")
    expect(summary).to_contain_text("Would add 2 of 3")
    page.keyboard.press("Enter")  # the focused confirmation
    expect(summary).to_have_text(f"Added 2 item(s): {DATASET} v1.")
    assert dataset_versions(seeded) == 1
    page.click("#curate-dataset-link")

    # The new version's items: each links to its call and trace, with prompt@version (label).
    expect(page).to_have_url(f"{url}/console/datasets/{DATASET}?version=1")
    items = page.locator("#dataset-items tbody tr")
    expect(items).to_have_count(2)
    traced = items.filter(has=page.locator(f'a[href="/console/calls/{seeded.traced_call}"]'))
    expect(traced.locator(".item-expected")).to_have_text(TICKET)
    expect(traced.locator(".item-input")).to_contain_text('"company": "Acme"')
    expect(traced.locator(".source-prompt")).to_have_text(f"{PROMPT}@v1 (production)")
    expect(traced.locator(".source-prompt a")).to_have_attribute(
        "href", f"/console/prompts/{PROMPT}?version=1"
    )
    trace = traced.locator("a.source-trace")
    expect(trace).to_have_attribute("href", f"/console/traces/{TRACE}?span={seeded.traced_span}")
    expect(page.locator("#dataset-versions tbody tr td").nth(3)).to_have_text("from production")
    trace.click()
    expect(page.locator("#span-call")).to_contain_text(f"Call #{seeded.traced_call}")
    page.go_back()
    traced.locator(f'a[href="/console/calls/{seeded.traced_call}"]').click()
    expect(page.locator("h1")).to_have_text(f"Call #{seeded.traced_call}")

    # The same calls again, now by the filters: all are in the dataset or cannot be added.
    page.goto(f"{url}/console/calls?prompt={ENCODED}")
    open_panel(page)
    page.fill("#curate-dataset", DATASET)
    page.select_option("#curate-by", "filters")
    page.click("#curate-preview")
    expect(summary).to_have_text(
        f"Nothing to add: none of the 3 selected call(s) can be added to {DATASET} (now v1)."
    )
    expect(page.locator("#curate-skipped tbody tr td:nth-child(2)")).to_contain_text(
        ["already in the dataset", "already in the dataset"]
    )
    expect(page.locator("#curate-confirm")).to_have_count(0)
    page.set_viewport_size({"width": 800, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert dataset_versions(seeded) == 1
    assert tab.errors == []


def test_filters_that_cannot_select_and_bad_names_say_why(tab: Tab, seeded: CallsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(f"{url}/console/calls?model=offline%2Fecho")
    sign_in(page, seeded.writer_key)
    open_panel(page)
    expect(page.locator('#curate-by option[value="filters"]')).to_be_disabled()
    expect(page.locator("#curate-by + .hint")).to_have_text(
        "Filter by a prompt first: calls are added by prompt, or tick them."
    )
    page.goto(f"{url}/console/calls?prompt={ENCODED}&model=offline%2Fecho")
    open_panel(page)
    expect(page.locator("#curate-by + .hint")).to_contain_text("The model filter cannot select")
    page.locator(".call-tick").first.check()
    page.fill("#curate-dataset", "bad name!")
    page.click("#curate-preview")
    expect(page.locator("#curate-output .problem-title")).to_contain_text("(422)")
    expect(page.locator("#curate-confirm")).to_have_count(0)
    assert all("422" in e for e in tab.errors), tab.errors


def test_a_reader_sees_provenance_but_cannot_add_or_open_calls(
    tab: Tab, seeded: CallsSeeded
) -> None:
    page, url = tab.page, seeded.server.url
    with admin_client(seeded.server) as admin:
        body = {"ids": [seeded.traced_call], "message": "for the reader"}
        made = admin.post("/v1/datasets/curated/reader/versions/from-generations", json=body)
        assert made.status_code == 201, made.text
    page.goto(f"{url}/console/datasets/curated/reader")
    sign_in(page, seeded.reader_key)
    item = page.locator("#dataset-items tbody tr")
    expect(item).to_have_count(1)
    expect(item.locator(".source-links")).to_have_text(f"Call #{seeded.traced_call} · trace")
    expect(item.locator(".source-links a")).to_have_count(1)  # the trace; a call would be a 403
    expect(item.locator(".source-prompt")).to_have_text(f"{PROMPT}@v1 (production)")
    page.goto(f"{url}/console/calls?prompt={ENCODED}")
    expect(page.locator("main .state")).to_contain_text("takes a writer or admin key")
    expect(page.locator("#curate")).to_have_count(0)
    expect(page.locator(".call-tick")).to_have_count(0)
    assert tab.errors == []
