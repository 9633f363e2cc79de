"""The dashboard's files are package data, found through importlib.resources (as in a wheel)."""

from __future__ import annotations

from importlib import resources

import pytest

from tracing.dashboard import assets
from tracing.dashboard.assets import CONTENT_TYPES, find_asset

PACKAGE = resources.files("tracing.dashboard")


@pytest.mark.parametrize("name", sorted(CONTENT_TYPES))
def test_every_listed_asset_is_package_data(name: str) -> None:
    resource = PACKAGE.joinpath(name)
    assert resource.is_file()
    found = find_asset(name)
    assert found is not None
    assert found.body == resource.read_bytes() != b""
    assert found.content_type == CONTENT_TYPES[name]
    assert found is find_asset(name)  # read once


def test_every_static_file_is_listed() -> None:
    """A file added to the folder but not to CONTENT_TYPES would never be served."""
    on_disk = {
        r.name
        for r in PACKAGE.iterdir()
        if r.is_file() and not r.name.endswith((".py", ".pyc")) and not r.name.startswith(".")
    }
    assert on_disk == set(CONTENT_TYPES)


@pytest.mark.parametrize(
    "name", ["assets.py", "__init__.py", "../errors.py", "", "APP.JS", "app.js/", "./app.js"]
)
def test_only_listed_names_are_found(name: str) -> None:
    assert find_asset(name) is None


def test_etag_follows_the_content() -> None:
    a, b = find_asset("app.js"), find_asset("style.css")
    assert a is not None
    assert b is not None
    assert a.etag != b.etag
    assert a.etag.startswith('"')
    assert a.etag.endswith('"')
    assert assets.INDEX in CONTENT_TYPES
