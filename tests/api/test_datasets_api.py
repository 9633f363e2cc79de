from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.db import Database
from api.server.app import create_app
from tests.conftest import ADMIN_KEY, DatabaseFactory, make_settings

PROBLEM = "application/problem+json"
JSONL = {"content-type": "application/x-ndjson"}
CSV = {"content-type": "text/csv"}


def items(n: int = 3, **extra: Any) -> list[dict[str, Any]]:
    return [{"input": {"q": f"q{i}"}, "expected": f"a{i}", **extra} for i in range(n)]


def jsonl(rows: list[Any]) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


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
            for table in ("datasets", "dataset_versions", "dataset_items")
        }


async def test_json_body_201_then_identical_200(client: httpx.AsyncClient) -> None:
    body = {"items": items(), "message": "first", "description": "tickets"}
    first = await client.post("/v1/datasets/support/tickets/versions", json=body)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == "/v1/datasets/support/tickets/versions/1"
    stored = first.json()
    assert (stored["name"], stored["version"], stored["item_count"]) == ("support/tickets", 1, 3)
    assert (stored["message"], stored["author"]) == ("first", "bootstrap-admin")
    again = await client.post(
        "/v1/datasets/support/tickets/versions", json={**body, "message": "again"}
    )
    assert again.status_code == 200
    assert again.json()["version"] == 1
    assert again.json()["message"] == "first"
    bare_list = await client.post("/v1/datasets/support/tickets/versions", json=items())
    assert bare_list.status_code == 200
    listed = (await client.get("/v1/datasets", params={"q": "ticket"})).json()
    assert listed["items"][0]["description"] == "tickets"
    assert listed["items"][0]["latest_version"] == 1


async def test_jsonl_and_csv_uploads_with_the_same_items_dedupe(client: httpx.AsyncClient) -> None:
    rows = [{"input": {"q": "hello"}, "expected": "world", "contexts": ["c"]}]
    first = await client.post(
        "/v1/datasets/multi/versions", content=jsonl(rows), headers=JSONL, params={"message": "m"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["message"] == "m"
    csv = b'q,expected,contexts\r\nhello,world,"[""c""]"\r\n'
    same = await client.post("/v1/datasets/multi/versions", content=csv, headers=CSV)
    assert same.status_code == 200, same.text
    assert same.json()["content_hash"] == first.json()["content_hash"]
    changed = await client.post(
        "/v1/datasets/multi/versions",
        content=b"q\nhello\n",
        headers={"content-type": "application/octet-stream"},
        params={"format": "csv"},
    )
    assert changed.status_code == 201, changed.text
    assert changed.json()["version"] == 2


async def test_unsupported_media_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/datasets/x/versions", content=b"q\n1\n", headers={"content-type": "text/plain"}
    )
    body = assert_problem(response, 415)
    assert "text/csv" in body["detail"]


BAD_UPLOADS: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "jsonl",
        {
            "content": jsonl([{"input": {"a": 1}}, {"input": 1}, {"x": 1}]) + b"\nnope\n",
            "headers": JSONL,
        },
        ["line 2", "line 3", "line 4"],
    ),
    (
        "csv",
        {"content": b"q,contexts\nok,[]\nbad,nope\nalso,[1]\n", "headers": CSV},
        ["line 3", "line 4"],
    ),
    (
        "json",
        {"json": {"items": [{"input": {}}, {"input": "x"}, {"contexts": [1]}]}},
        ["#/items/1/input", "#/items/2/contexts/0"],
    ),
    ("json-empty", {"json": {"items": []}}, ["#/items"]),
    ("json-extra", {"json": {"items": items(1), "extra": True}}, ["#/extra"]),
    (
        "json-broken",
        {"content": b'{"items": [', "headers": {"content-type": "application/json"}},
        ["line 1"],
    ),
    ("nul", {"json": [{"input": {"q": "a\u0000"}}]}, ["#/0/input"]),
    (
        "infinite",
        {"content": b'[{"expected": 1e999}]', "headers": {"content-type": "application/json"}},
        [],
    ),
]


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"), BAD_UPLOADS, ids=[c for c, _, _ in BAD_UPLOADS]
)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
async def test_bad_rows_are_422_and_store_nothing(
    client: httpx.AsyncClient,
    db: Database,
    case: str,
    kwargs: dict[str, Any],
    expected: list[str],
    existing: bool,
) -> None:
    if existing:
        seeded = await client.post("/v1/datasets/bad/rows/versions", json=items())
        assert seeded.status_code == 201
    before = await counts(db)
    response = await client.post("/v1/datasets/bad/rows/versions", **kwargs)
    body = assert_problem(response, 422)
    assert body["type"] == "urn:promptlane:problem:invalid-dataset"
    assert [e["pointer"] for e in body.get("errors", [])] == expected
    if case in ("jsonl", "csv"):
        assert f"lines {', '.join(p.removeprefix('line ') for p in expected)}" in body["detail"]
        assert "nothing was stored" in body["detail"]
    assert await counts(db) == before


async def test_bad_name_is_422_and_stores_nothing(client: httpx.AsyncClient, db: Database) -> None:
    before = await counts(db)
    response = await client.post("/v1/datasets/Bad Name/versions", json=items())
    assert "invalid dataset name" in assert_problem(response, 422)["detail"]
    reserved = await client.post("/v1/datasets/a/diff/b/versions", json=items())
    assert "reserved segment" in assert_problem(reserved, 422)["detail"]
    assert await counts(db) == before


async def test_body_over_the_limit_is_413(db: Database, database_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(database_url, tmp_path, max_body_bytes=2048), database=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            headers = {"Authorization": f"Bearer {ADMIN_KEY}", **JSONL}
            big = jsonl(items(100))
            response = await c.post("/v1/datasets/big/versions", content=big, headers=headers)
    assert_problem(response, 413)


@pytest.mark.parametrize("name", ["a", "team/sub/data.v2", "x_y/z-1", "deep/" * 8 + "end"])
async def test_names_with_slashes_route_unambiguously(client: httpx.AsyncClient, name: str) -> None:
    base = f"/v1/datasets/{name}"
    assert (await client.post(f"{base}/versions", json=items(2))).status_code == 201
    assert (await client.post(f"{base}/versions", json=items(3))).status_code == 201
    versions = (await client.get(f"{base}/versions")).json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    assert all(v["items"] is None for v in versions["items"])
    one = (await client.get(f"{base}/versions/1")).json()
    assert (one["name"], one["version"], len(one["items"])) == (name, 1, 2)
    latest = (await client.get(base)).json()
    assert (latest["version"], latest["items"]) == (2, None)
    diff = (await client.get(f"{base}/diff", params={"from": 1, "to": 2})).json()
    assert diff["counts"] == {"added": 1, "removed": 0, "changed": 0, "unchanged": 2}


async def test_items_are_paginated_or_complete(client: httpx.AsyncClient) -> None:
    rows = items(5, contexts=["ctx"], metadata={"id": "x"})
    await client.post("/v1/datasets/pages/versions", json=rows)
    full = (await client.get("/v1/datasets/pages/versions/1")).json()
    assert [i["position"] for i in full["items"]] == [0, 1, 2, 3, 4]
    assert {k: v for k, v in full["items"][0].items() if k != "position"} == rows[0]
    page = await client.get("/v1/datasets/pages/versions/1", params={"limit": 2, "offset": 2})
    assert [i["position"] for i in page.json()["items"]] == [2, 3]
    rest = await client.get("/v1/datasets/pages/versions/1", params={"offset": 3})
    assert [i["position"] for i in rest.json()["items"]] == [3, 4]
    bare = await client.get("/v1/datasets/pages/versions/1", params={"items": "false"})
    assert bare.json()["items"] is None
    latest = await client.get("/v1/datasets/pages", params={"items": "true", "limit": 1})
    assert [i["position"] for i in latest.json()["items"]] == [0]
    assert_problem(await client.get("/v1/datasets/pages", params={"limit": 0}), 422)


async def test_the_list_shows_the_current_item_count_and_the_last_publish(
    client: httpx.AsyncClient,
) -> None:
    base = "/v1/datasets/listed/facts/versions"
    first = (await client.post(base, json=items(3))).json()
    second = (await client.post(base, json=items(5))).json()
    again = await client.post(base, json=items(3))  # v1's content again: v1 is current
    assert again.status_code == 200
    await client.post("/v1/datasets/listed/other/versions", json=items(1))
    listed = (await client.get("/v1/datasets", params={"q": "listed/"})).json()
    facts = {d["name"]: d for d in listed["items"]}
    got = facts["listed/facts"]
    assert (got["latest_version"], got["current_version"], got["item_count"]) == (2, 1, 3)
    assert got["updated_at"] == second["created_at"] != first["created_at"]
    assert facts["listed/other"]["item_count"] == 1


async def test_diff_lists_changes(client: httpx.AsyncClient) -> None:
    old = [{"input": {"q": q}, "metadata": {"id": q}} for q in "abc"]
    new = [
        old[0],
        {"input": {"q": "B"}, "metadata": {"id": "b"}},
        {"input": {"q": "d"}, "metadata": {"id": "d"}},
    ]
    await client.post("/v1/datasets/d/versions", json=old)
    await client.post("/v1/datasets/d/versions", json=new)
    diff = (await client.get("/v1/datasets/d/diff", params={"from": 1, "to": 2})).json()
    assert diff["matched_by"] == "metadata.id"
    assert diff["counts"] == {"added": 1, "removed": 1, "changed": 1, "unchanged": 1}
    assert diff["changed"][0]["key"] == "b"
    assert diff["changed"][0]["fields"] == ["input"]
    assert diff["removed"][0]["metadata"] == {"id": "c"}
    assert diff["added"][0]["metadata"] == {"id": "d"}
    missing = assert_problem(await client.get("/v1/datasets/d/diff", params={"from": 1}), 422)
    assert missing["errors"][0]["parameter"] == "to"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/datasets/nope",
        "/v1/datasets/nope/versions",
        "/v1/datasets/nope/versions/1",
        "/v1/datasets/known/versions/9",
        "/v1/datasets/known/diff?from=1&to=9",
    ],
)
async def test_unknown_datasets_and_versions_are_404(client: httpx.AsyncClient, path: str) -> None:
    await client.post("/v1/datasets/known/versions", json=items(1))
    body = assert_problem(await client.get(path), 404)
    assert body["type"] == "urn:promptlane:problem:dataset-not-found"


async def test_openapi_documents_the_upload_formats(app: Any) -> None:
    spec = app.openapi()
    post = spec["paths"]["/v1/datasets/{name}/versions"]["post"]
    content = post["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-ndjson", "text/csv"}
    assert {"200", "201", "415"} <= set(post["responses"])
    assert "#/$defs" not in json.dumps(spec)
    for path, operations in spec["paths"].items():
        if path.startswith("/v1/datasets"):
            for operation in operations.values():
                assert operation["description"], path


@pytest.fixture
async def live_client(
    databases: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """Return a client on an app with its own database and pool (real commits)."""
    app = create_app(make_settings(databases.create(), tmp_path, db_pool_size=10))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://promptlane.test", headers=headers
        ) as c:
            yield c


async def test_concurrent_publishes(live_client: httpx.AsyncClient) -> None:
    distinct = await asyncio.gather(
        *(
            live_client.post("/v1/datasets/race/versions", content=jsonl(items(i)), headers=JSONL)
            for i in range(1, 11)
        )
    )
    assert [r.status_code for r in distinct] == [201] * 10, [r.text for r in distinct]
    assert sorted(r.json()["version"] for r in distinct) == list(range(1, 11))
    same = await asyncio.gather(
        *(live_client.post("/v1/datasets/same/versions", json=items()) for _ in range(8))
    )
    assert sorted(r.status_code for r in same) == [200] * 7 + [201]
    assert {r.json()["version"] for r in same} == {1}
