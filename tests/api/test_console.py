"""The console's routes: one public HTML shell for every page URL, its assets, strict headers."""

from __future__ import annotations

import re

import httpx
import pytest

from api.server.console import BUNDLE, CONTENT_TYPES, INDEX
from api.server.pages import CONTENT_SECURITY_POLICY
from tracing.static import static_files

ANONYMOUS = {"Authorization": ""}
ASSETS = sorted(set(CONTENT_TYPES) - {INDEX})
ALLOWED_URLS = {"http://www.w3.org/2000/svg"}  # the SVG namespace: an identifier, not fetched
PAGES = [
    "/console",
    "/console/",
    "/console/prompts",
    "/console/prompts/support/triage",
    "/console/prompts/support/triage/diff?a=1&b=2",
    "/console/datasets/support/tickets?version=2&page=3",
    "/console/suites/support/quality",
    "/console/no/such/page",
]


def assert_secure_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_url_gets_the_shell(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=ANONYMOUS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_secure_headers(response)
    # Absolute asset URLs: the shell is served at every depth of /console/.
    assert '<script type="module" src="/console/assets/app.js"></script>' in response.text
    assert "<script>" not in response.text
    assert "style=" not in response.text


async def test_the_root_redirects_to_the_console(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers=ANONYMOUS)
    assert response.status_code == 307
    assert response.headers["location"] == "/console/"


@pytest.mark.parametrize("name", ASSETS)
async def test_assets_are_public_with_their_types(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/console/assets/{name}", headers=ANONYMOUS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPES[name]
    assert_secure_headers(response)
    text = response.text
    assert set(re.findall(r"\b(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)) <= ALLOWED_URLS
    assert "innerHTML" not in text  # text goes in through textContent only
    assert "localStorage" not in text  # the key lives for the browser session only


async def test_an_unchanged_asset_is_a_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/console/assets/core.js")
    again = await client.get(
        "/console/assets/core.js", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("name", ["index.html", "__init__.py", "nope.js", "APP.JS"])
async def test_unlisted_names_are_problem_404s(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/console/assets/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_path_is_never_read_as_a_file(client: httpx.AsyncClient) -> None:
    # A name with a slash is no asset name: it is a page URL, answered with the shell.
    response = await client.get("/console/assets/..%2F..%2Fapp.py")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "import" not in response.text


def test_every_file_in_the_package_is_listed_and_loads() -> None:
    """A file added to the folder but not to CONTENT_TYPES would never be served."""
    assert static_files(BUNDLE.package) == set(CONTENT_TYPES)
    for name in CONTENT_TYPES:
        found = BUNDLE.find(name)
        assert found is not None
        assert found.body
        assert found is BUNDLE.find(name)  # read once


def test_each_module_imported_is_served() -> None:
    """An import of a file the allow-list misses would break the page at load time."""
    for name in ASSETS:
        if name.endswith(".js"):
            body = BUNDLE.find(name)
            assert body is not None
            for imported in re.findall(r'from "\./([\w.-]+)"', body.body.decode()):
                assert imported in CONTENT_TYPES, (name, imported)
