"""Suites over HTTP: push YAML or JSON, dedupe by content, read versions, refuse bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.db import Database
from api.server.app import create_app
from prompts.policy import Role
from tests.conftest import ADMIN_KEY, auth, make_settings
from tests.factories import push_dataset

PROBLEM = "application/problem+json"
YAML = {"content-type": "application/yaml"}
SUITE = """\
name: support/triage
description: Ticket triage quality
dataset: tickets@2
scorers:
  - {name: correct, type: exact_match}
  - {name: short, type: length, params: {max_chars: 40}}
gates:
  - {metric: correct, aggregate: mean, op: ">=", value: 0.9}
repeats: 2
"""
# The same suite as JSON, spelled out the long way (defaults and the dataset mapping).
SUITE_JSON: dict[str, Any] = {
    "name": "support/triage",
    "description": "Ticket triage quality",
    "dataset": {"name": "tickets", "version": 2},
    "scorers": [
        {"name": "correct", "type": "exact_match", "params": {}},
        {"name": "short", "type": "length", "params": {"max_chars": 40}},
    ],
    "gates": [{"metric": "correct", "aggregate": "mean", "op": ">=", "value": 0.9}],
    "repeats": 2,
    "concurrency": 8,
}


@pytest.fixture(autouse=True)
async def tickets(client: httpx.AsyncClient) -> None:
    """The dataset the suites name (`tickets@2`): a suite pins its dataset when pushed."""
    await push_dataset(client, "tickets", versions=2)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


async def counts(db: Database) -> dict[str, int]:
    async with db.reader() as session:
        return {
            table: int(
                (await session.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608
            )
            for table in ("suites", "suite_versions")
        }


async def push(client: httpx.AsyncClient, text: str = SUITE) -> httpx.Response:
    return await client.post("/v1/suites", content=text, headers=YAML)


async def test_yaml_201_then_identical_json_200_then_changed_is_version_2(
    client: httpx.AsyncClient,
) -> None:
    first = await push(client)
    assert first.status_code == 201, first.text
    stored = first.json()
    assert (stored["name"], stored["version"], stored["author"]) == (
        "support/triage",
        1,
        "bootstrap-admin",
    )
    assert stored["spec"]["dataset"] == {"name": "tickets", "version": 2}
    assert stored["spec"]["timeout_seconds"] == 60.0
    assert len(stored["content_hash"]) == 64

    same = await client.post("/v1/suites", json=SUITE_JSON)
    assert same.status_code == 200, same.text
    assert (same.json()["version"], same.json()["content_hash"]) == (1, stored["content_hash"])
    again = await push(client)
    assert again.status_code == 200
    assert again.json()["created_at"] == stored["created_at"]

    changed = await client.post("/v1/suites", json={**SUITE_JSON, "repeats": 3})
    assert changed.status_code == 201, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["content_hash"] != stored["content_hash"]


async def test_list_show_and_versions(client: httpx.AsyncClient) -> None:
    await push(client)
    await push(client, SUITE.replace("repeats: 2", "repeats: 4"))
    await push(client, SUITE.replace("support/triage", "billing/refunds"))
    listed = (await client.get("/v1/suites")).json()
    assert listed["total"] == 2
    assert [(s["name"], s["latest_version"]) for s in listed["items"]] == [
        ("billing/refunds", 1),
        ("support/triage", 2),
    ]
    assert listed["items"][1]["description"] == "Ticket triage quality"
    found = (await client.get("/v1/suites", params={"q": "triage"})).json()
    assert [s["name"] for s in found["items"]] == ["support/triage"]
    page = (await client.get("/v1/suites", params={"limit": 1, "offset": 1})).json()
    assert [s["name"] for s in page["items"]] == ["support/triage"]

    latest = (await client.get("/v1/suites/support/triage")).json()
    assert (latest["version"], latest["spec"]["repeats"]) == (2, 4)
    first = (await client.get("/v1/suites/support/triage/versions/1")).json()
    assert (first["version"], first["spec"]["repeats"]) == (1, 2)
    versions = (await client.get("/v1/suites/support/triage/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    reader = await client.get("/v1/suites/support/triage", headers=auth(Role.READER))
    assert reader.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/suites/nope",
        "/v1/suites/nope/versions",
        "/v1/suites/nope/versions/1",
        "/v1/suites/support/triage/versions/9",
    ],
)
async def test_unknown_suites_and_versions_are_404(client: httpx.AsyncClient, path: str) -> None:
    await push(client)
    body = assert_problem(await client.get(path), 404)
    assert body["type"] == "urn:promptlane:problem:suite-not-found"


def _json(raw: Any) -> dict[str, Any]:
    return {"content": json.dumps(raw).encode(), "headers": {"content-type": "application/json"}}


def _yaml(text: str) -> dict[str, Any]:
    return {"content": text.encode(), "headers": YAML}


BAD: list[tuple[str, dict[str, Any], list[str], str]] = [
    (
        "unknown gate metric",
        _yaml(SUITE.replace("{metric: correct", "{metric: corect")),
        ["#/gates/0/metric"],
        "#/gates/0/metric: 'corect' is not a scorer of this suite",
    ),
    (
        "unknown scorer type",
        _json({**SUITE_JSON, "scorers": [{"name": "correct", "type": "exact"}]}),
        ["#/scorers/0/type"],
        "unknown scorer type 'exact'",
    ),
    (
        "bad regex",
        _json(
            {
                **SUITE_JSON,
                "scorers": [
                    {"name": "correct", "type": "exact_match"},
                    {"name": "shape", "type": "regex", "params": {"pattern": "a(b"}},
                ],
            }
        ),
        ["#/scorers/1/params/pattern"],
        "invalid regular expression",
    ),
    (
        "duplicate scorer names",
        _yaml(SUITE.replace("name: short", "name: correct")),
        ["#/scorers/1/name"],
        "repeated: correct",
    ),
    (
        "bad dataset name",
        _yaml(SUITE.replace("dataset: tickets@2", "dataset: Tickets Data")),
        ["#/dataset/name"],
        "invalid dataset name",
    ),
    (
        "bad dataset version",
        _yaml(SUITE.replace("tickets@2", "tickets@two")),
        ["#/dataset/version"],
        "valid integer",
    ),
    ("bad suite name", _json({**SUITE_JSON, "name": "Bad Name"}), ["#/name"], "suite name"),
    ("unknown field", _json({**SUITE_JSON, "gate": []}), ["#/gate"], "Extra inputs"),
    ("yaml syntax", _yaml("name: x\nscorers: [\n"), [], "not valid YAML at line 3, column 1"),
    ("yaml scalar", _yaml("just words\n"), [], "must be a mapping"),
    ("json array", _json([SUITE_JSON]), [], "must be a JSON object"),
    (
        "json broken",
        {"content": b'{"name": ', "headers": {"content-type": "application/json"}},
        [],
        "not valid JSON",
    ),
]


@pytest.mark.parametrize(("case", "kwargs", "pointers", "detail"), BAD, ids=[c for c, *_ in BAD])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
async def test_bad_suites_are_422_and_store_nothing(
    client: httpx.AsyncClient,
    db: Database,
    case: str,
    kwargs: dict[str, Any],
    pointers: list[str],
    detail: str,
    existing: bool,
) -> None:
    if existing:
        assert (await push(client)).status_code == 201
    before = await counts(db)
    body = assert_problem(await client.post("/v1/suites", **kwargs), 422)
    assert body["type"] == "urn:promptlane:problem:invalid-suite"
    assert [e["pointer"] for e in body.get("errors", [])] == pointers
    assert detail in body["detail"]
    assert await counts(db) == before


async def test_readers_cannot_push(client: httpx.AsyncClient, db: Database) -> None:
    before = await counts(db)
    refused = await client.post("/v1/suites", content=SUITE, headers={**YAML, **auth(Role.READER)})
    assert_problem(refused, 403)
    unknown = {**YAML, "Authorization": "Bearer pl_not-a-key"}
    assert_problem(await client.post("/v1/suites", content=SUITE, headers=unknown), 401)
    assert await counts(db) == before
    writer = await client.post("/v1/suites", content=SUITE, headers={**YAML, **auth(Role.WRITER)})
    assert writer.status_code == 201
    assert writer.json()["author"] == "test-writer"


async def test_body_over_the_limit_is_413(db: Database, database_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(database_url, tmp_path, max_body_bytes=2048), database=db)
    before = await counts(db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            headers = {"Authorization": f"Bearer {ADMIN_KEY}", **YAML}
            big = SUITE.replace("Ticket triage quality", "x" * 1_900)
            assert len(big) < 2_000 + len(SUITE)
            response = await c.post("/v1/suites", content=big, headers=headers)
            assert_problem(response, 413)
            small = await c.post("/v1/suites", content=SUITE, headers=headers)
            assert small.status_code == 201, small.text
    assert (await counts(db))["suite_versions"] == before["suite_versions"] + 1


async def test_openapi_documents_both_body_formats(app: Any) -> None:
    post = app.openapi()["paths"]["/v1/suites"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/yaml", "application/json"}
    assert {"200", "201"} <= set(post["responses"])
