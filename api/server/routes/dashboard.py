"""The built-in dashboard page and its static files (public; the data needs an API key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.server.errors import problem_response
from api.server.pages import ASSET_RESPONSES, send_asset
from tracing.dashboard.assets import INDEX, find_asset

router = APIRouter(tags=["dashboard"])


@router.get("/dashboard", response_class=HTMLResponse)
async def show_dashboard(request: Request) -> Response:
    """Return the dashboard page; it asks for an API key and reads the JSON API with it."""
    asset = find_asset(INDEX)
    assert asset is not None  # INDEX is always listed
    return send_asset(request, asset)


@router.get("/dashboard/assets/{name}", response_class=Response, responses=ASSET_RESPONSES)
async def get_dashboard_asset(
    request: Request, name: Annotated[str, Path(max_length=64)]
) -> Response:
    """Return one of the dashboard's static files (CSS, JavaScript, icon)."""
    asset = find_asset(name)
    if asset is None or asset.name == INDEX:
        return problem_response(404, detail=f"no dashboard asset {name!r}")
    return send_asset(request, asset)
