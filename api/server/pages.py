"""Sending the built-in pages' static files: strict security headers, ETag revalidation."""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from fastapi.responses import Response

from api.server.cache import etag_matches
from tracing.static import Asset

# The pages run only their own files and talk only to this server: no inline script or
# style, no third-party origin, no framing, no form posts, and DOM sinks need Trusted Types.
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
ASSET_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {"text/css": {}, "text/javascript": {}, "image/svg+xml": {}}}
}


def send_asset(request: Request, asset: Asset) -> Response:
    """Return `asset` with the security headers, or 304 when the client's ETag matches."""
    headers = {**HEADERS, "ETag": asset.etag}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and etag_matches(if_none_match, asset.etag):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)
