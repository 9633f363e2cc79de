"""Hostile values in every field of every operation: a 4xx, never a 500, on both databases.

Each endpoint's valid request from the role matrix is mutated one value at a time: every
string gets a NUL and a control character, every integer becomes 2^31 and 2^63 (past what
PostgreSQL's `integer` and SQLite's INTEGER hold), every boolean and number a look-alike
string. The valid request is sent first, so a mutation is the only difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from prompts.policy import Role
from tests.api.test_role_matrix import MATRIX, _seed
from tests.conftest import auth

INT_OVERFLOWS = (2**31, 2**63)
STRINGS = ("nul\x00here", "bell\x07")


def _leaf_mutants(value: Any) -> tuple[Any, ...]:
    if isinstance(value, bool):
        return ("yes", 1)
    if isinstance(value, int | float):
        return (*INT_OVERFLOWS, "12", True)
    if isinstance(value, str):
        return tuple(value + hostile for hostile in STRINGS)
    return ()


def _mutants(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Yield (where, mutated copy of `value`) with one leaf replaced by a hostile value."""
    if isinstance(value, dict):
        for key, child in value.items():
            for where, mutated in _mutants(child, (*path, key)):
                yield where, {**value, key: mutated}
    elif isinstance(value, list):
        for i, child in enumerate(value):
            for where, mutated in _mutants(child, (*path, i)):
                yield where, [*value[:i], mutated, *value[i + 1 :]]
    else:
        for hostile in _leaf_mutants(value):
            yield "/".join(map(str, path)), hostile


def _requests(tag: str, ids: dict[str, int]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for (method, _), case in sorted(MATRIX.items()):
        path, kwargs = case.build(tag)
        for key, value in ids.items():
            path = path.replace(f"{{{key}}}", str(value))
        params = {k: ids.get(str(v).strip("{}"), v) for k, v in kwargs.get("params", {}).items()}
        if "json" in kwargs:
            for where, body in _mutants(kwargs["json"]):
                yield method, path, f"body {where}", {"json": body, "params": params}
        for where, mutated in _mutants(params):
            yield method, path, f"query {where}", {**kwargs, "params": mutated}


def _refused(response: httpx.Response) -> bool:
    """A clear client error: problem JSON, or the OpenAI shape on the gateway."""
    if not 400 <= response.status_code < 500:
        return False
    kind = response.headers.get("content-type", "")
    return kind.startswith("application/problem+json") or "error" in response.json()


async def test_no_hostile_value_gets_a_server_error(app: Any, client: httpx.AsyncClient) -> None:
    ids = await _seed(client, app)
    broken, sent = [], 0
    for method, path, where, kwargs in _requests("hostile", ids):
        sent += 1
        response = await client.request(method, path, headers=auth(Role.ADMIN), **kwargs)
        if response.status_code >= 500 or (response.status_code >= 400 and not _refused(response)):
            broken.append(f"{method} {path} {where}: {response.status_code} {response.text[:200]}")
    assert sent > 100  # every operation's valid request, mutated field by field
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("value", ["x\x00", "\x1b[31m", "line\x7f"])
async def test_control_characters_in_urls_are_refused(
    client: httpx.AsyncClient, value: str
) -> None:
    for path, params in (
        ("/v1/prompts", {"q": value}),
        ("/v1/prompts", {"label": value}),
        ("/v1/datasets", {"q": value}),
        ("/v1/runs", {"prompt": value}),
        ("/v1/generations", {"model": value}),
        ("/v1/policies/history", {"label": value}),
    ):
        response = await client.get(path, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert "control character" in response.json()["detail"]
