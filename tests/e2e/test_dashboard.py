"""The dashboard page in real headless Chromium (tests/e2e/browser.py) against a real server."""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests import otlp_requests
from tests.cli.generations import store_at
from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.server import Server, start_server
from tests.factories import generation
from tracing.models import Generation

pytestmark = pytest.mark.e2e

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "dashboard.png"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
PROMPT, EMPTY = "support/triage", "support/empty"
SUITES = {
    # name: (dataset, items whose scripted answer is wrong)
    "dash/quality": ("dash/tickets", 0),
    "dash/strict": ("dash/hard", 1),
}
CHARTS = ("calls", "cost", "latency", "score-quality")
# An application's trace: the request span carries the prompt link, the model call under it
# takes it from there; a tool span beside it; and another app's call that names no prompt.
_TRACE_ID, _ROOT = "ab" * 16, "cd" * 8
TRACE = otlp_requests.otlp_json(
    otlp_requests.span(
        {"promptlane.prompt.name": PROMPT, "promptlane.prompt.version": 2},
        trace_id=_TRACE_ID,
        span_id=_ROOT,
        name="handle ticket",
        duration_ms=900.0,
    ),
    otlp_requests.span(
        otlp_requests.genai(
            **{f"promptlane.prompt.{k}": None for k in ("name", "version", "label")}
        ),
        trace_id=_TRACE_ID,
        parent_span_id=_ROOT,
        name="chat gpt-4o-mini",
    ),
    otlp_requests.span(
        {"tool.name": "lookup"}, trace_id=_TRACE_ID, parent_span_id=_ROOT, name="lookup order"
    ),
    otlp_requests.span(
        otlp_requests.genai(
            **{f"promptlane.prompt.{k}": None for k in ("name", "version", "label")}
        ),
        name="chat unlinked",
    ),
)


@dataclass(frozen=True)
class Seeded:
    """A server with seeded data, and a reader key for the page."""

    server: Server
    reader_key: str
    runs: dict[str, dict[str, Any]]  # suite -> finished run


def _version(template: str) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": template}],
        "config": {"model": "offline/scripted", "temperature": 0},
        "message": template,
    }


def _dataset(wrong: int) -> list[dict[str, Any]]:
    answers = ["billing", "technical", "account"]
    return [
        {
            "input": {"ticket": f"ticket {i}"},
            "expected": answer,
            "metadata": {"answer": "wrong" if i < wrong else answer},
        }
        for i, answer in enumerate(answers)
    ]


def _wait_for_run(http: httpx.Client, run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run: dict[str, Any] = http.get(f"/v1/runs/{run_id}").json()
        if run["status"] in ("completed", "failed", "cancelled"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def seed_api(server: Server) -> tuple[str, dict[str, dict[str, Any]]]:
    """Publish two versions and an empty prompt, move labels, run two suites; return a key."""
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:
        for template in ("Triage: {{ticket}}", "Triage this ticket: {{ticket}}"):
            assert http.post(f"/v1/prompts/{PROMPT}/versions", json=_version(template)).is_success
        assert http.post(f"/v1/prompts/{EMPTY}/versions", json=_version("{{ticket}}")).is_success
        for label, version in (("staging", 1), ("production", 2)):
            moved = http.put(f"/v1/prompts/{PROMPT}/labels/{label}", json={"version": version})
            assert moved.status_code == 200, moved.text
        runs = {}
        for number, (suite, (dataset, wrong)) in enumerate(SUITES.items(), start=1):
            items = http.post(f"/v1/datasets/{dataset}/versions", json=_dataset(wrong))
            assert items.status_code == 201, items.text
            spec = {
                "name": suite,
                "dataset": dataset,
                "scorers": [{"name": "correct", "type": "exact_match"}],
                "gates": [{"metric": "correct", "aggregate": "mean", "op": ">=", "value": 0.9}],
            }
            assert http.post("/v1/suites", json=spec).status_code == 201
            run = http.post("/v1/runs", json={"suite": suite, "prompt": PROMPT, "version": number})
            assert run.status_code == 202, run.text
            runs[suite] = _wait_for_run(http, run.json()["id"])
        traced = http.post("/v1/traces", content=TRACE, headers=otlp_requests.JSON)
        assert traced.status_code == 200, traced.text
        key = http.post("/v1/keys", json={"name": "dashboard", "role": "reader"})
        assert key.status_code == 201, key.text
    return str(key.json()["key"]), runs


def seed_generations(url: str) -> None:
    """Store calls across versions and hours: v1's quality drops in the last day (drift)."""
    rows: list[Generation] = []
    for i in range(40):
        common = {"prompt_name": PROMPT, "prompt_version": 1, "prompt_label": "staging"}
        rows.append(
            generation(
                ago=timedelta(days=2, hours=2 * i),
                scores={"quality": 0.85 + (i % 5) * 0.02},
                duration_ms=200.0 + i,
                cost_usd=0.0015,
                **common,
            )
        )
        rows.append(
            generation(
                ago=timedelta(minutes=40 + 30 * i),
                scores={"quality": 0.25 + (i % 5) * 0.02},
                duration_ms=260.0 + i,
                cost_usd=0.0015,
                **common,
            )
        )
        rows.append(
            generation(
                ago=timedelta(minutes=20 + 30 * i),
                prompt_name=PROMPT,
                prompt_version=2,
                prompt_label="production",
                scores={"quality": 0.9},
                safety_flags=["pii"] if i % 10 == 0 else [],
                is_error=i % 20 == 0,
                duration_ms=120.0 + 3 * i,
                cost_usd=0.004,
            )
        )
    store_at(url, rows)


@pytest.fixture(scope="module")
def seeded(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    tmp = tmp_path_factory.mktemp("dashboard")
    url = databases.create(migrate=False)
    server = start_server(
        tmp,
        database_url=url,
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    try:
        key, runs = seed_api(server)
        seed_generations(url)  # the server has migrated the database by now
        yield Seeded(server, key, runs)
    finally:
        server.stop()


# Formatting as the page does it (en-US), to compare the page's text with the API's numbers.
def usd(value: float) -> str:
    digits = 2 if value == 0 or value >= 1 else 4 if value >= 0.01 else 6
    text = f"{value:.{digits}f}"
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.rstrip('0').ljust(2, '0')}"


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 10 else f"{math.floor(value + 0.5)} ms"


def percent(value: float) -> str:
    return f"{value * 100:.1f}".removesuffix(".0") + "%"


def api_totals(server: Server, key: str) -> dict[int, dict[str, Any]]:
    """Return the per-version totals the page should show (all seeded data is < 7 days old)."""
    response = httpx.get(
        f"{server.url}/v1/analytics/usage",
        params={"prompt": PROMPT, "group_by": "version"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    return {row["version"]: row for row in response.json()["rows"]}


def connect(tab: Tab, seeded: Seeded, key: str, fragment: str = "") -> Page:
    page = tab.page
    page.goto(f"{seeded.server.url}/dashboard{fragment}")
    expect(page.locator("#key-status")).to_contain_text("Paste an API key")
    page.fill("#api-key", key)
    page.click("#key-form button[type=submit]")
    return page


def chart_marks(page: Page, chart: str, version: int) -> int:
    series = page.locator(f'svg[data-chart="{chart}"] g.series[data-version="{version}"]')
    return series.locator("circle.point, rect.bar").count()


def bar_values(page: Page, chart: str, version: int) -> list[int]:
    """Return the values of a version's bars, read from their tooltips ("v1 · 14:00 · 2")."""
    bars = page.locator(f'svg[data-chart="{chart}"] g.series[data-version="{version}"] rect title')
    return [int(text.rsplit(" · ", 1)[1].replace(",", "")) for text in bars.all_text_contents()]


def assert_range(page: Page, name: str, *, buckets: int) -> None:
    expect(page.locator("#drift .drift-card")).to_have_count(2)  # the last section drawn
    assert f"range={name}" in page.url
    expect(page.locator('svg[data-chart="calls"]')).to_have_attribute("data-buckets", str(buckets))
    for version in (1, 2):
        calls = page.locator(f'#versions tr[data-version="{version}"] td').nth(2).inner_text()
        assert sum(bar_values(page, "calls", version)) == int(calls.replace(",", ""))


def assert_versions_table(page: Page, totals: dict[int, dict[str, Any]]) -> None:
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(2)
    assert [rows.nth(i).get_attribute("data-version") for i in range(2)] == ["2", "1"]
    for version, row in totals.items():
        cells = page.locator(f'#versions tr[data-version="{version}"] td').all_inner_texts()
        assert cells[0].strip() == f"v{version}"
        assert cells[2] == str(row["calls"])
        assert cells[3] == f"{row['errors']} ({percent(row['error_rate'])})"
        assert cells[4] == f"{row['input_tokens']:,} / {row['output_tokens']:,}"
        assert cells[5] == usd(row["cost_usd"])
        assert (cells[6], cells[7]) == (ms(row["latency_p50_ms"]), ms(row["latency_p95_ms"]))
        means = [f"{name} {score['mean']:.3f}" for name, score in row["scores"].items()]
        assert cells[8] == ", ".join(means)
        assert "quality" in row["scores"]
    assert page.locator('#versions tr[data-version="2"] td').nth(1).inner_text() == (
        "production → v2"
    )
    flags = page.locator('#versions tr[data-version="2"] td').nth(9).inner_text()
    assert flags == f"pii {totals[2]['safety_flags']['pii']}"


def assert_charts(page: Page) -> None:
    for chart in CHARTS:
        svg = page.locator(f'svg[data-chart="{chart}"]')
        expect(svg).to_have_count(1)
        assert svg.get_attribute("role") == "img"
        assert svg.locator("title").first.text_content()
        for version in (1, 2):
            assert chart_marks(page, chart, version) > 0, (chart, version)
    for version in (1, 2):
        path = page.locator(f'svg[data-chart="cost"] g.series[data-version="{version}"] path')
        assert (path.get_attribute("d") or "").count("L") > 0  # a line, not only dots
    # Only v2 raised safety flags.
    assert chart_marks(page, "safety", 2) > 0
    assert chart_marks(page, "safety", 1) == 0


def assert_drift(page: Page) -> None:
    drifted = page.locator('#drift .drift-card[data-version="1"]')
    expect(drifted.locator(".badge")).to_have_text("drift: quality")
    expect(drifted.locator('tr[data-metric="quality"]')).to_have_class("flagged")
    expect(drifted.locator('tr[data-metric="input_chars"] td').nth(1)).to_have_text("ok")
    fresh = page.locator('#drift .drift-card[data-version="2"]')
    expect(fresh.locator(".badge")).to_have_text("not enough data")
    expect(page.locator('#versions tr[data-version="1"] .drift-cell')).to_have_text(
        "drift: quality"
    )


def assert_runs(page: Page, runs: dict[str, dict[str, Any]]) -> None:
    for run in runs.values():
        row = page.locator(f'#runs tr[data-run="{run["id"]}"]')
        expect(row.locator(".badge")).to_have_text(run["verdict"])
        expect(row).to_contain_text(run["suite"])
    assert {r["verdict"] for r in runs.values()} == {"passed", "failed"}


def test_dashboard_shows_prompts_charts_drift_and_runs(
    tab: Tab, seeded: Seeded, tmp_path: Path
) -> None:
    # A link can name the prompt (the first one, support/empty, is selected otherwise).
    page = connect(tab, seeded, seeded.reader_key, "#prompt=support/triage")
    expect(page.locator("#key-status")).to_contain_text("Connected")
    listed = page.locator(f'button.prompt[data-prompt="{PROMPT}"]')
    expect(listed).to_have_attribute("aria-current", "true")
    expect(listed.locator(".chip")).to_have_text(["production → v2", "staging → v1"])
    expect(page.locator(f'button.prompt[data-prompt="{EMPTY}"]')).to_be_visible()
    expect(page.locator("#drift .drift-card")).to_have_count(2)

    assert_versions_table(page, api_totals(seeded.server, seeded.reader_key))
    assert_charts(page)
    assert_drift(page)
    assert_runs(page, seeded.runs)

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.stat().st_size > 10_000
    if os.environ.get("PROMPTLANE_UPDATE_SCREENSHOTS") == "1":  # refresh the docs' copy
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)

    # Other ranges: 25 hourly or 31 daily buckets whose bars add up to the table's calls.
    assert_range(page, "7d", buckets=169)
    page.check('input[name="range"][value="24h"]')
    assert_range(page, "24h", buckets=25)
    page.check('input[name="range"][value="30d"]')
    assert_range(page, "30d", buckets=31)
    assert chart_marks(page, "calls", 2) > 0

    # The key survives a reload of the tab (sessionStorage), and so does the selection.
    page.reload()
    expect(page.locator("#key-status")).to_contain_text("Connected")
    expect(page.locator('input[name="range"][value="30d"]')).to_be_checked()

    # An unused prompt shows empty states, not errors.
    page.click(f'button.prompt[data-prompt="{EMPTY}"]')
    expect(page.locator("#versions")).to_have_text("No calls in range for this prompt.")
    expect(page.locator("#charts")).to_contain_text("No calls in range")
    expect(page.locator("#runs")).to_have_text("No eval runs for this prompt yet.")

    # Narrow screens: one column, nothing wider than the viewport but the tables' own scroller.
    # (A changed link selects too.)
    page.set_viewport_size({"width": 390, "height": 800})
    page.evaluate("location.hash = '#prompt=support%2Ftriage&range=7d'")
    expect(page.locator("#prompt-title")).to_have_text(PROMPT)
    expect(page.locator("#drift .drift-card")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert tab.errors == []
    outside = [u for u in tab.requests if not u.startswith(seeded.server.url + "/")]
    assert outside == []
    assert any("/v1/analytics/drift" in u for u in tab.requests)


def test_unlinked_calls_and_a_calls_trace(tab: Tab, seeded: Seeded) -> None:
    # A reader sees every call's totals and the unlinked share, not the calls themselves.
    page = connect(tab, seeded, seeded.reader_key, "#prompt=support/triage&range=7d")
    expect(page.locator('#overview [data-overview="unlinked"]')).to_contain_text(
        "Not linked to a prompt: 1 call ("
    )
    expect(page.locator('#overview [data-overview="all"]')).to_contain_text("tokens (in / out)")
    expect(page.locator("#calls")).to_have_text(
        "Individual calls need a writer key (they may hold recorded message content)."
    )

    # A writer opens the application's call: its fields and its trace, the model call in place.
    page.click("#forget-key")
    page = connect(tab, seeded, ADMIN_KEY, "#prompt=support/triage&range=7d")
    call = page.locator(f'#calls tbody tr[data-trace="{_TRACE_ID}"]')
    expect(call.locator("td").nth(1)).to_have_text("v2")  # linked through its parent span
    call.locator("button.link").click()
    detail = page.locator("#call-detail")
    expect(detail.locator("h4")).to_contain_text("Call #")
    expect(detail.locator(".fields")).to_contain_text(f"{PROMPT} v2")
    expect(detail.locator(".fields")).to_contain_text("120 / 30")
    root = detail.locator(f'.trace-tree > li[data-span="{_ROOT}"]')
    expect(root.locator("> .span-name")).to_have_text("handle ticket")
    children = root.locator("> ul > li")
    expect(children).to_have_count(2)
    expect(root.locator("li.generation .span-name")).to_have_text("chat gpt-4o-mini")
    expect(root).to_contain_text("lookup order")
    assert tab.errors == []


def test_a_refused_key_is_explained_and_not_kept(tab: Tab, seeded: Seeded) -> None:
    page = connect(tab, seeded, "pl_" + "x" * 30)
    expect(page.locator("#key-status")).to_contain_text("not accepted (401)")
    expect(page.locator("#main")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    # The good key still works in the same tab, and "Forget key" removes it.
    page.fill("#api-key", seeded.reader_key)
    page.click("#key-form button[type=submit]")
    expect(page.locator("#key-status")).to_contain_text("Connected")
    page.click("#forget-key")
    expect(page.locator("#main")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    # The only console errors are the browser's notes about the refused requests.
    assert all("401" in e for e in tab.errors), tab.errors
