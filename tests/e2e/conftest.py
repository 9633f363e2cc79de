from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ADMIN_KEY, DatabaseFactory
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
