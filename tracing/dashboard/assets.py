"""The dashboard's static files: the allow-list of names served (see `tracing.static`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from tracing.static import CSS, HTML, JS, SVG, Asset, AssetBundle

INDEX: Final = "index.html"
CONTENT_TYPES: Final[Mapping[str, str]] = {
    INDEX: HTML,
    "style.css": CSS,
    "app.js": JS,
    "charts.js": JS,
    "format.js": JS,
    "views.js": JS,
    "favicon.svg": SVG,
}
BUNDLE: Final = AssetBundle(__name__.rpartition(".")[0], CONTENT_TYPES, INDEX)


def find_asset(name: str) -> Asset | None:
    """Return the dashboard file called `name`, or None if there is no such file to serve."""
    return BUNDLE.find(name)
