"""The built-in dashboard page and its static files (public; the data needs an API key)."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.server.cache import etag_matches
from api.server.errors import problem_response
from tracing.dashboard.assets import INDEX, Asset, find_asset

router = APIRouter(tags=["dashboard"])

# The page runs only its own files and talks only to this server: no inline script or style,
# no third-party origin, no framing, no form posts, and DOM sinks need Trusted Types.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
    )
)
HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # File names carry no content hash, so browsers revalidate (cheaply, by ETag) every time.
    "Cache-Control": "no-cache",
}


def _send(request: Request, asset: Asset) -> Response:
    headers = {**HEADERS, "ETag": asset.etag}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and etag_matches(if_none_match, asset.etag):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)


@router.get("/dashboard", response_class=HTMLResponse)
async def show_dashboard(request: Request) -> Response:
    """Return the dashboard page; it asks for an API key and reads the JSON API with it."""
    asset = find_asset(INDEX)
    assert asset is not None  # INDEX is always listed
    return _send(request, asset)


@router.get(
    "/dashboard/assets/{name}",
    response_class=Response,
    responses={200: {"content": {"text/css": {}, "text/javascript": {}, "image/svg+xml": {}}}},
)
async def get_dashboard_asset(
    request: Request, name: Annotated[str, Path(max_length=64)]
) -> Response:
    """Return one of the dashboard's static files (CSS, JavaScript, icon)."""
    asset = find_asset(name)
    if asset is None or asset.name == INDEX:
        return problem_response(404, detail=f"no dashboard asset {name!r}")
    return _send(request, asset)
