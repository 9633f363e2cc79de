"""The API docs pages' static files: vendored libraries and promptlane's own init script.

The vendored libraries (Swagger UI, ReDoc) live in `static/vendor/<name>-<version>/`, put
there by deploy/vendor.py, which records each file's sha256 in `static/vendor/VENDORED.json`.
Only the files that record lists are ever served, read through importlib.resources so an
installed wheel works: a request names a library directory and a file, never a path.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Final

from pydantic import BaseModel, ConfigDict

from api.server.cache import make_etag

_STATIC: Final = resources.files(__name__.rpartition(".")[0]).joinpath("static")
VENDOR: Final = _STATIC.joinpath("vendor")
RECORD: Final = "VENDORED.json"
SWAGGER_INIT: Final = "swagger-init.js"
_CONTENT_TYPES: Final[Mapping[str, str]] = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_TEXT: Final = "text/plain; charset=utf-8"  # LICENSE, NOTICE and the bundled licences


class VendoredLibrary(BaseModel):
    """One library as VENDORED.json records it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    license: str
    source: str
    integrity: str  # the npm tarball's, as the registry published it
    directory: str
    files: dict[str, str]  # served name -> sha256 (hex) of its bytes


class VendoredRecord(BaseModel):
    """VENDORED.json: every vendored library."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    libraries: list[VendoredLibrary]


@dataclass(frozen=True, slots=True)
class StaticFile:
    """One file ready to send."""

    body: bytes
    content_type: str
    etag: str


def content_type(name: str) -> str:
    """Return the Content-Type a file called `name` is served with."""
    _, dot, suffix = name.rpartition(".")
    return _CONTENT_TYPES.get(f"{dot}{suffix}", _TEXT)


@functools.cache
def vendored() -> VendoredRecord:
    """Return the record of the vendored libraries."""
    return VendoredRecord.model_validate_json(VENDOR.joinpath(RECORD).read_bytes())


@functools.cache
def library(name: str) -> VendoredLibrary:
    """Return the vendored library called `name` (a programming error if there is none)."""
    for lib in vendored().libraries:
        if lib.name == name:
            return lib
    raise LookupError(f"{name} is not vendored (deploy/vendor.py)")


def find_vendored(directory: str, name: str) -> StaticFile | None:
    """Return the vendored file `name` of library `directory`, or None if none is listed."""
    listed = {lib.directory: lib for lib in vendored().libraries}
    lib = listed.get(directory)
    if lib is None or name not in lib.files:
        return None
    return _load(lib.directory, name, lib.files[name])


def find_own(name: str) -> StaticFile | None:
    """Return promptlane's own docs file `name` (the Swagger UI init script), or None."""
    if name != SWAGGER_INIT:
        return None
    return _load(None, name, None)


@functools.cache  # bounded: only names listed above reach it
def _load(directory: str | None, name: str, sha256: str | None) -> StaticFile:
    folder = _STATIC if directory is None else VENDOR.joinpath(directory)
    body = folder.joinpath(name).read_bytes()
    # A vendored file's recorded hash is its ETag: no need to hash 2 MB again.
    etag = f'"{sha256[:32]}"' if sha256 is not None else make_etag(body)
    return StaticFile(body=body, content_type=content_type(name), etag=etag)
