"""The dashboard route: public HTML and assets, content types, CSP, ETags, no path escapes."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from api.server.pages import CONTENT_SECURITY_POLICY
from tracing.dashboard.assets import CONTENT_TYPES, INDEX

ANONYMOUS = {"Authorization": ""}
ASSETS = sorted(set(CONTENT_TYPES) - {INDEX})
# The only absolute URL the files may contain: the SVG namespace (an identifier, never fetched).
ALLOWED_URLS = {"http://www.w3.org/2000/svg"}


def assert_secure_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])


async def test_page_is_public_html_with_a_strict_csp(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard", headers=ANONYMOUS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_secure_headers(response)
    html = response.text
    assert '<script type="module" src="dashboard/assets/app.js"></script>' in html
    assert 'href="dashboard/assets/style.css"' in html
    # Nothing inline for the CSP to block.
    assert "<script>" not in html
    assert "style=" not in html


@pytest.mark.parametrize("name", ASSETS)
async def test_assets_have_their_content_types(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/dashboard/assets/{name}", headers=ANONYMOUS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPES[name]
    assert response.content
    assert_secure_headers(response)


@pytest.mark.parametrize("path", ["/dashboard", *(f"/dashboard/assets/{n}" for n in ASSETS)])
async def test_nothing_is_loaded_from_another_origin(client: httpx.AsyncClient, path: str) -> None:
    text = (await client.get(path)).text
    assert set(re.findall(r"\b(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)) <= ALLOWED_URLS
    assert "@import" not in text
    assert "url(" not in text


async def test_page_references_only_served_assets(client: httpx.AsyncClient) -> None:
    html = (await client.get("/dashboard")).text
    referenced = set(re.findall(r'(?:src|href)="dashboard/assets/([^"]+)"', html))
    for name in [n for n in ASSETS if n.endswith(".js")]:
        script = (await client.get(f"/dashboard/assets/{name}")).text
        referenced |= set(re.findall(r'from "\./([^"]+)"', script))
    assert referenced == set(ASSETS)


async def test_etag_revalidation_is_304(client: httpx.AsyncClient) -> None:
    for path in ("/dashboard", "/dashboard/assets/app.js"):
        first = await client.get(path)
        again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == first.headers["etag"]
        assert "content-security-policy" in again.headers
        changed = await client.get(path, headers={"If-None-Match": '"stale"'})
        assert changed.status_code == 200
        assert changed.content == first.content


@pytest.mark.parametrize(
    "name",
    [
        "missing.js",
        "index.html",  # served at /dashboard only
        "assets.py",  # in the package, but not an asset
        "__init__.py",
        "%2e%2e",
        "..%2F..%2Fapi%2Fsettings.py",
        "..%5C..%5Capi%5Csettings.py",
        "app.js%00.py",
        "APP.JS",
        "x" * 65,
    ],
)
async def test_unknown_assets_are_404_problems(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/dashboard/assets/{name}", headers=ANONYMOUS)
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "BaseSettings" not in response.text
    assert "import " not in response.text


async def _raw_get(app: Any, raw_path: bytes) -> tuple[int, bytes]:
    """Send a path to the ASGI app exactly as given (httpx would remove the dot segments)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path.decode(),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"promptlane.test")],
        "client": ("127.0.0.1", 1234),
        "server": ("promptlane.test", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/dashboard/assets/../../api/settings.py",
        b"/dashboard/assets/../assets.py",
        b"/dashboard/assets/./../__init__.py",
        b"/dashboard/assets//etc/passwd",
        b"/dashboard/../api/settings.py",
        b"/dashboard/assets/..",
    ],
)
async def test_no_path_traversal(app: Any, raw_path: bytes) -> None:
    status, body = await _raw_get(app, raw_path)
    assert status == 404, body
    for leaked in (b"BaseSettings", b"importlib", b"root:"):
        assert leaked not in body
