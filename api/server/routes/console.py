"""The web console: one public HTML shell for every /console/ path, and its static files.

The pages are public like the dashboard's; every piece of data comes from the JSON API with
the API key the user signs in with.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.server.console import BUNDLE
from api.server.errors import problem_response
from api.server.pages import ASSET_RESPONSES, send_asset

router = APIRouter(tags=["console"])


@router.get("/", include_in_schema=False)
async def go_to_console() -> RedirectResponse:
    """Send a browser at the server's root to the console."""
    return RedirectResponse("/console/", status_code=307)


@router.get("/console/assets/{name}", response_class=Response, responses=ASSET_RESPONSES)
async def get_console_asset(
    request: Request, name: Annotated[str, Path(max_length=64)]
) -> Response:
    """Return one of the console's static files (CSS, JavaScript, icon)."""
    asset = BUNDLE.find(name)
    if asset is None or asset.name == BUNDLE.index:
        return problem_response(404, detail=f"no console asset {name!r}")
    return send_asset(request, asset)


@router.get("/console", response_class=HTMLResponse)
async def show_console(request: Request) -> Response:
    """Return the console's page; it asks for an API key and reads the JSON API with it."""
    asset = BUNDLE.find(BUNDLE.index)
    assert asset is not None  # the index is always listed
    return send_asset(request, asset)


@router.get("/console/{page:path}", response_class=HTMLResponse)
async def show_console_page(
    request: Request, page: Annotated[str, Path(max_length=1_000)]
) -> Response:
    """Return the console's page for a shareable URL; the page itself picks what to show."""
    return await show_console(request)
