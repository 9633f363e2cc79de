"""/docs and /redoc load only this server's files: vendored, pinned and as recorded."""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.server import docs_assets
from api.server.routes import apidocs

VENDOR = Path(docs_assets.__file__).parent / "static" / "vendor"
RECORD = json.loads((VENDOR / "VENDORED.json").read_text(encoding="utf-8"))["libraries"]
PAGES = ("/docs", "/redoc")
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# ReDoc names the document on its <redoc> element; the Swagger UI init script reads it from
# the page's data attribute.
URL_ATTRIBUTES = {"src", "href", "spec-url", "data-openapi-url"}


class Links(HTMLParser):
    """Every URL an HTML page references."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [v for k, v in attrs if k in URL_ATTRIBUTES and v is not None]
        if tag == "script" and "src" not in found:
            self.inline_scripts += 1


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("page", PAGES)
async def test_pages_reference_only_same_origin_files_that_are_served(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page, headers={"Authorization": ""})  # public, as before
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    found = links(response.text)
    assert found.inline_scripts == 0
    assert len(found.urls) >= 3  # the icon, the document and at least one library file
    for url in found.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url  # a scheme-relative URL names another host
        asset = await client.get(url, headers={"Authorization": ""})
        assert asset.status_code == 200, url
        suffix = Path(url).suffix
        if suffix in TYPES:
            assert asset.headers["content-type"] == TYPES[suffix], url
        if url.startswith("/docs/vendor/"):
            directory, name = url.removeprefix("/docs/vendor/").split("/")
            (lib,) = [lib for lib in RECORD if lib["directory"] == directory]
            assert sha256(asset.content) == lib["files"][name], url
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("page", PAGES)
async def test_pages_allow_no_other_origin(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().partition(" ")[::2] for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["connect-src"] == "'self'"
    sources = " ".join(directives.values()).split()
    assert not [s for s in sources if "://" in s or s in ("*", "https:", "http:")], policy
    assert response.headers["cache-control"] == "no-cache"


def test_the_record_matches_the_vendored_files() -> None:
    directories = {path.name for path in VENDOR.iterdir() if path.is_dir()}
    assert directories == {lib["directory"] for lib in RECORD}
    for lib in RECORD:
        assert lib["directory"] == f"{lib['name']}-{lib['version']}"
        assert lib["integrity"].startswith("sha512-")
        assert lib["source"] == (
            f"https://registry.npmjs.org/{lib['name']}/-/{lib['name']}-{lib['version']}.tgz"
        )
        assert lib["license"] in ("MIT", "Apache-2.0")
        folder = VENDOR / lib["directory"]
        assert {p.name for p in folder.iterdir()} == set(lib["files"])
        assert "LICENSE" in lib["files"]
        for name, digest in lib["files"].items():
            assert sha256((folder / name).read_bytes()) == digest, f"{folder.name}/{name}"


async def test_licences_are_served_as_text(client: httpx.AsyncClient) -> None:
    for lib in RECORD:
        response = await client.get(f"/docs/vendor/{lib['directory']}/LICENSE")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"


async def test_a_vendored_file_revalidates_by_etag(client: httpx.AsyncClient) -> None:
    url = f"/docs/vendor/{docs_assets.library(apidocs.SWAGGER).directory}/swagger-ui.css"
    first = await client.get(url)
    again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "url",
    [
        "/docs/vendor/swagger-ui-dist-0.0.1/swagger-ui.css",  # not the vendored version
        "/docs/vendor/swagger-ui-dist-5.35.0/index.html",  # not a listed file
        "/docs/vendor/swagger-ui-dist-5.35.0/..%2FVENDORED.json",
        "/docs/vendor/..%2F..%2Fdocs_assets.py/x",
        "/docs/VENDORED.json",
        "/docs/oauth2-redirect",  # nothing uses OAuth2
    ],
)
async def test_anything_else_is_a_404_problem(client: httpx.AsyncClient, url: str) -> None:
    response = await client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_pages_honour_the_root_path(app: Any) -> None:
    # Behind a proxy that strips a prefix (uvicorn --root-path), the URLs keep it.
    transport = httpx.ASGITransport(app=app, root_path="/pl")
    async with httpx.AsyncClient(transport=transport, base_url="http://promptlane.test") as c:
        for page in PAGES:
            response = await c.get(f"/pl{page}")
            assert response.status_code == 200
            assert all(url.startswith("/pl/") for url in links(response.text).urls)


async def test_the_openapi_document_stays_public(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "promptlane"
