"""The API docs pages, /docs (Swagger UI) and /redoc (ReDoc), served wholly from the package.

Public, as FastAPI's own are: they show the OpenAPI document, which is public too. Every file
they load comes from this server (api/server/docs_assets.py), so they work offline, and their
Content-Security-Policy names no other origin. Out of the OpenAPI document, like FastAPI's.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.server import docs_assets
from api.server.cache import etag_matches
from api.server.docs_assets import StaticFile
from api.server.errors import problem_response

router = APIRouter(include_in_schema=False)

SWAGGER: Final = "swagger-ui-dist"
REDOC: Final = "redoc"
FAVICON: Final = "/dashboard/assets/favicon.svg"  # the dashboard's icon, served by this app
# What both pages may load: this server's files and the icons swagger-ui.css inlines as data:
# URIs. No framing, no form posts, no plugins.
_COMMON: Final = (
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
)
SWAGGER_CSP: Final = "; ".join((*_COMMON, "style-src 'self'"))
# ReDoc styles itself with styled-components, which writes <style> elements at run time (it
# fails to start without 'unsafe-inline'), and runs its search index in a worker it builds
# from a blob: URL. Its sidebar shows Redocly's logo from cdn.redoc.ly: img-src blocks it.
REDOC_CSP: Final = "; ".join((*_COMMON, "style-src 'self' 'unsafe-inline'", "worker-src blob:"))
_PAGE: Final = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
# The HTML names versioned paths: revalidate it so an upgrade shows at once.
_HTML: Final = {**_PAGE, "Cache-Control": "no-cache"}
# A vendored file's path carries its library's version: it never changes under that URL.
_IMMUTABLE: Final = "public, max-age=31536000, immutable"


def _vendored_url(root: str, library: str, name: str) -> str:
    return f"{root}/docs/vendor/{docs_assets.library(library).directory}/{name}"


def swagger_page(*, root: str, title: str, openapi_url: str) -> str:
    """Return the Swagger UI page for the OpenAPI document at `openapi_url`."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - Swagger UI</title>
<link rel="icon" type="image/svg+xml" href="{escape(root + FAVICON)}">
<link rel="stylesheet" href="{escape(_vendored_url(root, SWAGGER, "swagger-ui.css"))}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{escape(_vendored_url(root, SWAGGER, "swagger-ui-bundle.js"))}"></script>
<script src="{escape(f"{root}/docs/{docs_assets.SWAGGER_INIT}")}"></script>
</body>
</html>
"""


def redoc_page(*, root: str, title: str, openapi_url: str) -> str:
    """Return the ReDoc page for the OpenAPI document at `openapi_url`."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - ReDoc</title>
<link rel="icon" type="image/svg+xml" href="{escape(root + FAVICON)}">
</head>
<body>
<noscript>ReDoc needs JavaScript; the OpenAPI document is at {escape(openapi_url)}.</noscript>
<redoc spec-url="{escape(openapi_url)}"></redoc>
<script src="{escape(_vendored_url(root, REDOC, "redoc.standalone.js"))}"></script>
</body>
</html>
"""


def _page(request: Request) -> tuple[str, str, str]:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    openapi_url = request.app.openapi_url or "/openapi.json"
    return root, str(request.app.title), root + openapi_url


@router.get("/docs", response_class=HTMLResponse)
async def show_swagger_ui(request: Request) -> HTMLResponse:
    """Return the interactive API docs (Swagger UI)."""
    root, title, openapi_url = _page(request)
    html = swagger_page(root=root, title=title, openapi_url=openapi_url)
    return HTMLResponse(html, headers={**_HTML, "Content-Security-Policy": SWAGGER_CSP})


@router.get("/redoc", response_class=HTMLResponse)
async def show_redoc(request: Request) -> HTMLResponse:
    """Return the reference API docs (ReDoc)."""
    root, title, openapi_url = _page(request)
    html = redoc_page(root=root, title=title, openapi_url=openapi_url)
    return HTMLResponse(html, headers={**_HTML, "Content-Security-Policy": REDOC_CSP})


def _send(request: Request, found: StaticFile, cache_control: str) -> Response:
    headers = {**_PAGE, "Cache-Control": cache_control, "ETag": found.etag}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and etag_matches(if_none_match, found.etag):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.content_type, headers=headers)


@router.get("/docs/vendor/{directory}/{name}")
async def get_vendored_file(
    request: Request,
    directory: Annotated[str, Path(max_length=64)],
    name: Annotated[str, Path(max_length=64)],
) -> Response:
    """Return a file of a vendored library (VENDORED.json lists them)."""
    found = docs_assets.find_vendored(directory, name)
    if found is None:
        return problem_response(404, detail=f"no vendored file {directory}/{name}")
    return _send(request, found, _IMMUTABLE)


@router.get("/docs/{name}")
async def get_docs_file(request: Request, name: Annotated[str, Path(max_length=64)]) -> Response:
    """Return one of promptlane's own docs files (the Swagger UI init script)."""
    found = docs_assets.find_own(name)
    if found is None:
        return problem_response(404, detail=f"no docs file {name!r}")
    # Not versioned in its path: browsers revalidate it (cheaply, by ETag).
    return _send(request, found, "no-cache")
