"""The dashboard's static files, read through importlib.resources so an installed wheel works.

Only the files named in `CONTENT_TYPES` are ever served: a request names a file, never a
path, so nothing outside this package (or inside it, like this module) can be read.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final

_PACKAGE: Final = __name__.rpartition(".")[0]
INDEX: Final = "index.html"
CONTENT_TYPES: Final[Mapping[str, str]] = {
    INDEX: "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "format.js": "text/javascript; charset=utf-8",
    "views.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file, ready to send."""

    name: str
    body: bytes
    content_type: str
    etag: str


def find_asset(name: str) -> Asset | None:
    """Return the dashboard file called `name`, or None if there is no such file to serve."""
    if name not in CONTENT_TYPES:
        return None
    return _load(name)


@functools.cache  # bounded: only the names in CONTENT_TYPES reach it
def _load(name: str) -> Asset:
    body = resources.files(_PACKAGE).joinpath(name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Asset(name=name, body=body, content_type=CONTENT_TYPES[name], etag=etag)
