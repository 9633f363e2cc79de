"""The console's calls and traces pages in real headless Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.console_calls_seed import (
    CLIENT,
    FLAKY,
    PROMPT,
    RETRIEVE,
    ROOT,
    SECRET,
    TICKET,
    TRACE,
    CallsSeeded,
    seed_calls,
)
from tests.e2e.server import Server, start_server
from tests.e2e.test_console import NAV, sign_in

pytestmark = pytest.mark.e2e
ENCODED = PROMPT.replace("/", "%2F")


@pytest.fixture(scope="module")
def seeded(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CallsSeeded]:
    tmp = tmp_path_factory.mktemp("console-calls")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
        tracing_record_content="true",
    )
    try:
        yield seed_calls(server)
    finally:
        server.stop()


def no_secret(page: Page, seeded: CallsSeeded) -> None:
    """Assert that no key (the connection's, or an API key) is anywhere in the page."""
    html = page.content()
    for secret in (SECRET, ADMIN_KEY, seeded.writer_key, seeded.reader_key):
        assert secret not in html
    shown = page.locator("main").inner_text()
    for leaked in ("null", "undefined"):  # a missing value drawn as text
        assert leaked not in shown, shown


def test_list_filter_open_a_call_then_its_trace_and_a_span(tab: Tab, seeded: CallsSeeded) -> None:
    page, url, call = tab.page, seeded.server.url, seeded.traced_call
    page.goto(url + "/console/calls")
    sign_in(page, seeded.writer_key)
    expect(page.locator("#nav a")).to_have_text([*NAV[:-2], "Calls", "Traces", "Dashboard"])
    expect(page.locator("#nav a[aria-current=page]")).to_have_text("Calls")
    expect(page.locator("#call-table tbody tr")).to_have_count(5)
    expect(page.locator(".pager-status")).to_have_text("1–5 of 5 · page 1 of 1")
    # The first cell is the tick box of "Add to dataset" (writers); then the call.
    failed = page.locator(f'#call-table tr[data-call="{seeded.failed_call}"] td')
    expect(failed.nth(2)).to_have_text(f"{FLAKY}@v1 (production)")
    expect(failed.nth(7)).to_have_text("RateLimitError")
    row = page.locator(f'#call-table tr[data-call="{call}"] td')
    expect(row.nth(2).locator("a")).to_have_attribute(
        "href", f"/console/prompts/{PROMPT}?version=1"
    )
    expect(row.nth(3)).to_have_text("offline/echo")
    expect(row.nth(4)).to_have_text("13 in · 6 out")
    expect(row.nth(5)).to_have_text("$0.0000025")
    expect(row.nth(8)).to_have_text("pii")
    expect(row.nth(9)).to_have_text("pii 0 fail · short 0 fail")
    no_secret(page, seeded)

    # Filters live in the URL: the prompt's calls (two through the gateway, one ingested).
    page.fill("#filter-prompt", PROMPT)
    page.press("#filter-prompt", "Enter")
    expect(page).to_have_url(f"{url}/console/calls?prompt={ENCODED}")
    expect(page.locator("#call-table tbody tr")).to_have_count(3)
    expect(page.locator("#call-charts")).to_have_attribute("href", f"/dashboard#prompt={ENCODED}")
    page.select_option("#filter-errors", "true")
    page.click("#call-filters button")
    expect(page).to_have_url(f"{url}/console/calls?prompt={ENCODED}&errors=true")
    expect(page.locator("#call-results")).to_have_text(
        "No calls match these filters in the last 7 days."
    )
    page.goto(f"{url}/console/calls?errors=true&range=24h")  # a shared URL
    expect(page.locator("#filter-range")).to_have_value("24h")
    expect(page.locator("#call-table tbody tr")).to_have_count(1)
    page.goto(f"{url}/console/calls?prompt={ENCODED}")
    page.click(f'#call-table tr[data-call="{call}"] a[href="/console/calls/{call}"]')

    # The call: what was sent and answered, usage, scores with reasons, the pii flag.
    expect(page.locator("h1")).to_have_text(f"Call #{call}")
    expect(page.locator("#call-messages .message-role")).to_have_text(["system", "user"])
    expect(page.locator("#call-messages pre")).to_have_text(
        ["You triage tickets for Acme.", TICKET]
    )
    expect(page.locator("#call-output")).to_have_text(TICKET)  # offline/echo answers the ticket
    expect(page.locator("#call-tokens")).to_have_text("13 in · 6 out")
    expect(page.locator("#call-cost")).to_have_text("$0.0000025")
    expect(page.locator("#call-summary")).to_contain_text(f"{PROMPT}@v1 (production)")
    pii = page.locator('#call-scores tr[data-metric="pii"] td')
    expect(pii.nth(0)).to_have_text("0 fail")
    expect(pii.nth(1)).to_contain_text("email")
    expect(page.locator('#call-scores tr[data-metric="short"] td').nth(1)).to_have_text(
        "33 chars > max 20"
    )
    expect(page.locator("#call-flags .chip")).to_have_text(["pii"])
    expect(page.locator("#call-config")).to_contain_text('"temperature": 0.2')
    no_secret(page, seeded)

    # Its trace: the application's spans with the gateway's call in place, the call selected.
    page.click("#call-trace")
    expect(page).to_have_url(f"{url}/console/traces/{TRACE}?span={seeded.traced_span}")
    expect(page.locator("#span-title")).to_be_focused()
    expect(page.locator("#span-call")).to_contain_text(f"Call #{call}")
    names = page.locator("#span-table tbody .span-link")
    expect(names).to_have_text(
        ["POST /triage", "retrieve docs", "chat offline/echo", "chat gpt-4o-mini"]
    )
    depths = page.locator("#span-table tbody tr")
    assert [depths.nth(i).get_attribute("data-depth") for i in range(4)] == ["0", "1", "1", "1"]
    expect(page.locator(f'#span-table tr[data-span="{RETRIEVE}"] .badge')).to_have_text("error")
    # The bars: the root spans the whole trace; the retrieval starts 50 ms in and lasts 400 ms.
    widths = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#span-table tbody tr')].map(
          (r) => { const t = r.querySelector('.track').getBoundingClientRect();
                   const b = r.querySelector('.bar').getBoundingClientRect();
                   return [r.dataset.span, [(b.left - t.left) / t.width, b.width / t.width]]; }))"""
    )
    assert widths[ROOT] == [pytest.approx(0, abs=0.01), pytest.approx(1, abs=0.01)]
    assert widths[RETRIEVE] == [
        pytest.approx(50 / 3000, abs=0.01),
        pytest.approx(400 / 3000, abs=0.01),
    ]

    # Selecting a span shows its status and attributes, and the URL says which.
    page.click(f'#span-table a[data-span="{RETRIEVE}"]')
    expect(page).to_have_url(f"{url}/console/traces/{TRACE}?span={RETRIEVE}")
    expect(page.locator("#span-title")).to_have_text("retrieve docs")
    expect(page.locator("#span-facts")).to_contain_text("error: index timeout")
    expect(page.locator('#span-attributes tr[data-key="db.system"] td')).to_have_text("qdrant")
    expect(page.locator(f'#span-table tr[data-span="{RETRIEVE}"]')).to_have_attribute(
        "aria-current", "true"
    )
    no_secret(page, seeded)
    page.click(f'#span-table a[data-span="{CLIENT}"]')  # the application's own model call
    expect(page.locator("#span-call")).to_contain_text("helpfulness 0.8")
    page.locator("#span-call a", has_text="Call #").click()
    expect(page.locator("#call-messages-title + p")).to_contain_text("Not recorded")
    page.set_viewport_size({"width": 800, "height": 900})
    page.go_back()
    expect(page.locator("#span-table tbody tr")).to_have_count(4)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    no_secret(page, seeded)
    assert tab.errors == []


def test_a_reader_sees_traces_and_charts_but_not_calls(tab: Tab, seeded: CallsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(url + "/console/traces")
    sign_in(page, seeded.reader_key)
    expect(page.locator("#nav a")).to_have_text(NAV)
    row = page.locator(f'#trace-table tr[data-trace="{TRACE}"] td')
    expect(row.nth(1)).to_have_text("POST /triage")
    expect(row.nth(2)).to_have_text("triage-app")
    expect(row.nth(5)).to_have_text("3")  # spans
    expect(row.nth(6)).to_have_text("1")  # errors
    expect(row.nth(7)).to_have_text("2")  # calls: the ingested one and the gateway's
    page.select_option("#filter-errors", "false")
    page.click("#trace-filters button")
    expect(page).to_have_url(url + "/console/traces?errors=false")
    expect(page.locator("#trace-results")).to_have_text(
        "No traces match these filters in the last 7 days."
    )
    page.goto(f"{url}/console/traces/{TRACE}?span={seeded.traced_span}")
    expect(page.locator("#span-call")).to_contain_text(f"Call #{seeded.traced_call}")
    expect(page.locator("#span-call a", has_text="Call #")).to_have_count(0)  # no link to a 403
    page.goto(url + "/console/calls")
    expect(page.locator("main .state")).to_contain_text("takes a writer or admin key")
    assert not any("/v1/generations" in u for u in tab.requests)
    page.goto(f"{url}/console/prompts/{PROMPT}")
    expect(page.locator("#version-charts")).to_have_attribute(
        "href", f"/dashboard#prompt={ENCODED}"
    )
    expect(page.locator("#version-calls")).to_have_count(0)
    no_secret(page, seeded)
    assert tab.errors == []


def test_the_dashboard_opens_signed_in_with_the_console_key(tab: Tab, seeded: CallsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(f"{url}/console/prompts/{PROMPT}")
    sign_in(page, seeded.writer_key)
    page.click("#version-calls")
    expect(page).to_have_url(f"{url}/console/calls?prompt={ENCODED}&version=1")
    expect(page.locator("#call-table tbody tr")).to_have_count(3)
    page.click("#call-charts")  # a full page load: the dashboard reads the same session key
    expect(page.locator("#key-status")).to_contain_text("Connected")
    expect(page.locator("#prompt-title")).to_have_text(PROMPT)
    expect(page.locator('#versions tr[data-version="1"]')).to_be_visible()
    no_secret(page, seeded)
    page.click("#forget-key")  # one key for both: forgetting it signs the console out too
    assert page.evaluate("sessionStorage.length") == 0
    page.goto(url + "/console/traces")
    expect(page.locator("#sign-in h1")).to_have_text("Sign in")
    assert tab.errors == []


def test_missing_and_malformed_ids_show_the_problem(tab: Tab, seeded: CallsSeeded) -> None:
    page, url = tab.page, seeded.server.url
    page.goto(f"{url}/console/calls/424242")
    sign_in(page, seeded.writer_key)
    expect(page.locator(".problem-title")).to_have_text("Generation not found (404)")
    expect(page.locator(".problem-detail")).to_have_text("no generation has id 424242")
    page.goto(f"{url}/console/calls/nope")
    expect(page.locator(".problem-title")).to_contain_text("(422)")
    page.goto(f"{url}/console/traces/{'f' * 32}")
    expect(page.locator(".problem-title")).to_have_text("Trace not found (404)")
    expect(page.locator(".problem-detail")).to_contain_text("f" * 32)
    page.goto(f"{url}/console/calls?start=2025-02-01T00:00&end=2025-01-01T00:00")
    expect(page.locator("#call-results .problem-title")).to_have_text("Invalid time range (422)")
    expect(page.locator("#call-filters")).to_be_visible()  # the form stays to fix the range
    assert all("404" in e or "422" in e for e in tab.errors), tab.errors


def test_no_calls_and_no_traces_yet(tab: Tab, server: Server) -> None:
    page, url = tab.page, server.url
    page.goto(url + "/console/calls")
    sign_in(page, ADMIN_KEY)
    expect(page.locator("#call-results .state")).to_contain_text(
        "No calls recorded in the last 7 days. Calls made through the gateway"
    )
    expect(page.locator("#call-table")).to_have_count(0)
    page.click("#nav a >> text=Traces")
    expect(page.locator("#trace-results")).to_have_text("No traces received in the last 7 days.")
    assert tab.errors == []
