"""The console's playground in real headless Chromium: versions called through the gateway."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab
from tests.e2e.console_runs_seed import admin_client
from tests.e2e.server import Server, start_server
from tests.e2e.test_console import NAV, sign_in

pytestmark = pytest.mark.e2e
PROMPT = "play/triage"
TICKET = "my card was charged twice"
CHAT = [
    {"role": "system", "content": "You triage tickets for {{company}}."},
    {"role": "user", "content": "{{ticket}}"},
]
SCHEMA = {
    "type": "object",
    "properties": {"company": {"type": "string"}, "ticket": {"type": "string"}},
    "required": ["ticket"],
}
VERSIONS: list[dict[str, Any]] = [
    {"messages": CHAT, "config": {"model": "offline/echo"}},  # answers the ticket
    {"messages": CHAT, "config": {"model": "offline/scripted", "offline": {"default": "billing"}}},
    {"messages": CHAT, "config": {"model": "offline/echo"}, "variables_schema": SCHEMA},
]


@dataclass(frozen=True)
class Played:
    """The server and a reader key (the gateway takes reader keys)."""

    server: Server
    reader_key: str


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def played(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Played]:
    tmp = tmp_path_factory.mktemp("console-playground")
    server = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    try:
        with admin_client(server) as admin:
            for body in VERSIONS:
                _ok(admin.post(f"/v1/prompts/{PROMPT}/versions", json=body), 201)
            moved = {"version": 1, "reason": "first"}
            _ok(admin.put(f"/v1/prompts/{PROMPT}/labels/production", json=moved))
            # A label that reads like a version number: the playground writes it `@1`.
            _ok(admin.put(f"/v1/prompts/{PROMPT}/labels/1", json={"version": 2}))
            reader = _ok(admin.post("/v1/keys", json={"name": "play", "role": "reader"}), 201)
        yield Played(server, reader["key"])
    finally:
        server.stop()


def fill_variables(page: Page, variables: dict[str, str]) -> None:
    page.fill("#variables-json", json.dumps(variables))


def test_two_versions_side_by_side_from_the_prompt_page(tab: Tab, played: Played) -> None:
    page, url = tab.page, played.server.url
    page.goto(f"{url}/console/prompts/{PROMPT}?version=1")
    sign_in(page, played.reader_key)
    expect(page.locator("#nav a")).to_have_text(NAV)
    page.click('#version-table tr[data-version="1"] a.playground-link')
    expect(page).to_have_url(f"{url}/console/playground?prompt=play%2Ftriage&a=1")
    expect(page.locator("h1")).to_have_text(f"Playground: {PROMPT}")
    expect(page.locator("#play-a")).to_have_value("1")
    page.select_option("#play-b", "production")
    page.click("#play-pick button")
    expect(page).to_have_url(f"{url}/console/playground?prompt=play%2Ftriage&a=1&b=production")
    page.select_option("#play-b", "2")
    page.click("#play-pick button")
    expect(page).to_have_url(f"{url}/console/playground?prompt=play%2Ftriage&a=1&b=2")
    expect(page.locator("#variables-json")).to_have_value(
        json.dumps({"company": "", "ticket": ""}, indent=2)
    )

    # A reader runs both versions on the same variables through the gateway, offline.
    fill_variables(page, {"company": "Acme", "ticket": TICKET})
    page.click("#play-run")
    a, b = page.locator('.play-result[data-side="a"]'), page.locator('.play-result[data-side="b"]')
    expect(a.locator("h3")).to_have_text("A: v1")
    expect(b.locator("h3")).to_have_text("B: v2")
    expect(a.locator("code")).to_have_text(f"promptlane/{PROMPT}:1")
    expect(a.locator(".play-output")).to_have_text(TICKET)
    expect(b.locator(".play-output")).to_have_text("billing")
    for side, model in ((a, "offline/echo"), (b, "offline/scripted")):
        expect(side.locator('[data-fact="model"]')).to_have_text(model)
        expect(side.locator('[data-fact="tokens"]')).to_have_text(
            re.compile(r"^[1-9]\d* prompt · [1-9]\d* completion$")
        )
        expect(side.locator('[data-fact="cost"]')).to_have_text(re.compile(r"^\$0\.0*[1-9]"))
        expect(side.locator('[data-fact="latency"]')).to_have_text(re.compile(r"^\d+ ms$"))
    calls = [u for u in tab.requests if u.endswith("/v1/chat/completions")]
    assert len(calls) == 2, calls

    # A label is called as a label; the page at 800 px keeps the two answers readable.
    page.goto(f"{url}/console/playground?prompt={PROMPT}&a=production")
    fill_variables(page, {"company": "Acme", "ticket": "hello"})
    page.click("#play-run")
    expect(a.locator("h3")).to_have_text("A: production (v1)")
    expect(a.locator("code")).to_have_text(f"promptlane/{PROMPT}@production")
    expect(a.locator(".play-output")).to_have_text("hello")
    expect(page.locator('.play-result[data-side="b"]')).to_have_count(0)

    # The label `1` (on v2) is `@1`; a plain 1 stays version 1.
    page.select_option("#play-b", "@1")
    page.click("#play-pick button")
    expect(page).to_have_url(f"{url}/console/playground?prompt=play%2Ftriage&a=production&b=%401")
    fill_variables(page, {"company": "Acme", "ticket": "hello"})
    page.click("#play-run")
    expect(b.locator("h3")).to_have_text("B: 1 (v2)")
    expect(b.locator("code")).to_have_text(f"promptlane/{PROMPT}@1")
    expect(b.locator(".play-output")).to_have_text("billing")
    page.set_viewport_size({"width": 800, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert tab.errors == []


def test_the_nav_entry_picks_a_prompt_and_a_schema_gives_fields(tab: Tab, played: Played) -> None:
    page, url = tab.page, played.server.url
    page.goto(f"{url}/console/prompts")
    sign_in(page, played.reader_key)
    page.click("#nav a >> text=Playground")
    expect(page).to_have_url(f"{url}/console/playground")
    expect(page.locator("#play-prompts option")).to_have_count(1)
    page.fill("#play-prompt", PROMPT)
    page.press("#play-prompt", "Enter")
    expect(page).to_have_url(f"{url}/console/playground?prompt=play%2Ftriage")
    expect(page.locator("#play-a")).to_have_value("production")  # the default
    page.select_option("#play-a", "3")
    page.click("#play-pick button")
    page.fill("#var-ticket", "from the schema form")
    page.click("#play-run")
    output = page.locator('.play-result[data-side="a"] .play-output')
    expect(output).to_have_text("from the schema form")
    assert tab.errors == []


def test_gateway_errors_show_their_message(tab: Tab, played: Played) -> None:
    page, url = tab.page, played.server.url
    page.goto(f"{url}/console/playground?prompt={PROMPT}&a=1&b=3")
    sign_in(page, played.reader_key)
    fill_variables(page, {"company": "Acme"})  # no ticket: both renders refuse
    page.click("#play-run")
    for side in ("a", "b"):
        problem = page.locator(f'.play-result[data-side="{side}"] .problem')
        expect(problem.locator(".problem-title")).to_have_text(
            "The gateway refused the call (400: invalid_variables)"
        )
        expect(problem.locator(".problem-detail")).to_have_text("missing variables: ticket")
    page.goto(f"{url}/console/playground?prompt={PROMPT}&a=nope")
    expect(page.locator(".problem-title")).to_have_text("Unknown version or label")
    expect(page.locator(".problem-detail")).to_have_text(
        f'The prompt {PROMPT} has no label "nope".'
    )
    expect(page.locator("#play-run")).to_have_count(0)
    page.goto(f"{url}/console/playground?prompt=no/such/prompt")
    expect(page.locator(".problem-title")).to_contain_text("(404)")
    assert all("400" in e or "404" in e for e in tab.errors), tab.errors
