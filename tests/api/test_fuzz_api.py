"""Property-based fuzzing of every operation with schemathesis, as an admin and as a reader.

Hostile values come from the OpenAPI document itself (and schemathesis' negative cases): the
server must answer every one without a 5xx, with a status the document declares and a body
matching its schema. A fixed seed and a bounded number of examples keep it repeatable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.db import Database
from api.identity import keys
from api.server.app import create_app
from prompts.policy import Role
from tests.conftest import KEYS, DatabaseFactory, make_settings
from tests.factories import chat_body, dataset_items

EXAMPLES = 60
# Server-sent events follow a run until it finishes; runs never execute here.
STREAMING = "/v1/runs/{run_id}/events"


async def _test_keys(url: str) -> None:
    """Store the keys the tests know, one per role."""
    db = Database.from_url(url)
    try:
        async with db.transaction() as session:
            for role in Role:
                data = keys.ApiKeyCreate(name=f"fuzz-{role.value}", role=role)
                await keys.create_key(session, data=data, created_by="tests", key=KEYS[role])
    finally:
        await db.dispose()


def _seed(app: Any) -> None:
    """Give the fuzzer something to find: a prompt, labels, a dataset, a suite, a policy."""
    headers = {"Authorization": f"Bearer {KEYS[Role.ADMIN]}"}
    with asgi.get_client(app) as client:
        client.headers.update(headers)
        for model in ("offline/echo", "offline/scripted"):
            body = chat_body(config={"model": model})
            assert client.post("/v1/prompts/seed/p/versions", json=body).status_code in (200, 201)
        client.put("/v1/prompts/seed/p/labels/staging", json={"version": 1})
        client.post("/v1/datasets/seed/d/versions", json={"items": dataset_items()})
        suite = {"name": "seed/s", "dataset": "seed/d", "scorers": [{"type": "exact_match"}]}
        assert client.post("/v1/suites", json=suite).status_code in (200, 201)
        client.put("/v1/policies/production", json={"required_suites": ["seed/s"]})


@pytest.fixture(scope="module")
def api_schema(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    url = databases.create()
    asyncio.run(_test_keys(url))
    app = create_app(make_settings(url, tmp, online_eval_enabled=False))
    _seed(app)
    yield schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path=STREAMING)
    asgi.shutdown_lifespans()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _fuzz(operation: Any, role: Role) -> None:
    """Run one operation's examples (valid and invalid); raise on the first broken contract."""
    headers = {"Authorization": f"Bearer {KEYS[role]}"}
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @FUZZ
    @given(case=cases)
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

    run()


def _failures(schema: Any, role: Role) -> list[str]:
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation, role)
        except (Exception, BaseExceptionGroup) as exc:  # every operation tried, all reported
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    return failures


@pytest.mark.parametrize("role", [Role.ADMIN, Role.READER], ids=["admin", "reader"])
def test_no_operation_fails_or_breaks_its_contract(api_schema: Any, role: Role) -> None:
    failures = _failures(api_schema, role)
    assert not failures, "\n\n".join(failures)
