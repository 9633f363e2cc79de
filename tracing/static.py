"""Static files shipped as package data (the dashboard's, the console's), by an allow-list.

Files are read through importlib.resources so an installed wheel works. Only the names a
bundle lists are ever served: a request names a file, never a path, so nothing outside the
package (or inside it, like its Python modules) can be read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Final

JS: Final = "text/javascript; charset=utf-8"
CSS: Final = "text/css; charset=utf-8"
HTML: Final = "text/html; charset=utf-8"
SVG: Final = "image/svg+xml"


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file, ready to send."""

    name: str
    body: bytes
    content_type: str
    etag: str


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it holds a cache
class AssetBundle:
    """The servable files of one package: names mapped to their content types."""

    package: str
    content_types: Mapping[str, str]
    index: str = "index.html"
    _cache: dict[str, Asset] = field(default_factory=dict, init=False, repr=False)

    def find(self, name: str) -> Asset | None:
        """Return the file called `name`, or None if there is no such file to serve."""
        if name not in self.content_types:
            return None
        found = self._cache.get(name)
        if found is None:  # bounded: only listed names get here
            found = self._cache[name] = _load(self.package, name, self.content_types[name])
        return found


def _load(package: str, name: str, content_type: str) -> Asset:
    body = resources.files(package).joinpath(name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Asset(name=name, body=body, content_type=content_type, etag=etag)


def static_files(package: str) -> frozenset[str]:
    """Return the non-Python files in `package` (what a bundle must list, for tests)."""
    return frozenset(
        r.name
        for r in resources.files(package).iterdir()
        if r.is_file() and not r.name.endswith((".py", ".pyc")) and not r.name.startswith(".")
    )
