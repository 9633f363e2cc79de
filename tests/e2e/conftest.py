from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from tests.conftest import ADMIN_KEY, DatabaseFactory
from tests.e2e.browser import Tab, open_tab, start_playwright
from tests.e2e.server import Server, start_server


@pytest.fixture(scope="module")
def server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("server")
    running = start_server(
        tmp,
        database_url=databases.create(migrate=False),
        bootstrap_admin_key=ADMIN_KEY,
        credentials_file=str(tmp / "credentials.json"),
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    yield from start_playwright()


@pytest.fixture
def tab(playwright: Playwright, tmp_path: Path) -> Iterator[Tab]:
    yield from open_tab(playwright, tmp_path / "profile")
