"""GET /v1/runs/compare: items paged and filtered to what changed, with both results."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.db import Database
from tests.api.runs_support import (
    PROMPT,
    assert_problem,
    execute,
    publish,
    push_dataset,
    push_suite,
    start,
    version,
)

SUITE = """\
name: compare-quality
dataset: compare-tickets
scorers:
  - {name: correct, type: exact_match}
gates:
  - {metric: correct, aggregate: mean, op: ">=", value: 0.9}
repeats: 2
"""
CATEGORIES = ["billing", "technical", "account", "billing", "technical", "account"]
WRONG = {1, 4}  # positions the scripted model answers wrong, so they fail in both runs
ITEMS = [
    {
        "input": {"company": "Acme", "ticket": f"t{i}"},
        "expected": c,
        "metadata": {"answer": "wrong" if i in WRONG else c, "id": f"case-{i}"},
    }
    for i, c in enumerate(CATEGORIES)
]


@pytest.fixture
async def runs(client: httpx.AsyncClient, db: Database) -> tuple[int, int]:
    """Run a: the scripted model (two items wrong); run b: the echo model (every item wrong)."""
    await push_dataset(client, "compare-tickets", ITEMS)
    await push_suite(client, SUITE)
    await publish(client, PROMPT, version("offline/scripted"))
    await publish(client, PROMPT, version("offline/echo"))
    body = {"suite": "compare-quality"}
    a = await execute(client, db, (await start(client, version=1, **body))["id"])
    b = await execute(client, db, (await start(client, version=2, **body))["id"])
    return a["id"], b["id"]


async def compare(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/runs/compare", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_item_without_a_limit(client: httpx.AsyncClient, runs: tuple[int, int]) -> None:
    a, b = runs
    whole = await compare(client, a=a, b=b)
    assert (whole["compared_items"], whole["changed_items"], whole["item_total"]) == (6, 4, 6)
    assert (whole["offset"], whole["limit"]) == (0, None)
    assert [item["position"] for item in whole["items"]] == list(range(6))
    assert [item["pass_changed"] for item in whole["items"]] == [i not in WRONG for i in range(6)]
    assert whole["metrics"]["correct"]["delta"] == pytest.approx(-4 / 6)


async def test_a_page_of_changed_items_with_both_results(
    client: httpx.AsyncClient, runs: tuple[int, int]
) -> None:
    a, b = runs
    page = await compare(client, a=a, b=b, changed=True, limit=2, offset=1)
    assert (page["item_total"], page["changed_items"], page["offset"], page["limit"]) == (
        4,
        4,
        1,
        2,
    )
    assert [item["position"] for item in page["items"]] == [2, 3]
    item = page["items"][0]
    assert (item["item_id"], item["input"], item["expected"]) == (
        "case-2",
        ITEMS[2]["input"],
        "account",
    )
    assert item["a"]["output"] == "account"
    assert (item["a"]["passed"], item["a"]["status"], item["a"]["repeats"]) == (True, "ok", 2)
    assert item["a"]["scores"]["correct"]["value"] == 1.0
    assert item["b"]["passed"] is False
    assert item["b"]["scores"]["correct"]["passed"] is False
    assert item["metrics"]["correct"] == {"a": 1.0, "b": 0.0, "delta": -1.0}
    assert item["pass_changed"] is True
    past = await compare(client, a=a, b=b, changed=True, limit=2, offset=10)
    assert (past["items"], past["item_total"]) == ([], 4)
    same = await compare(client, a=a, b=a, changed=True, limit=50)
    assert (same["items"], same["changed_items"], same["compared_items"]) == ([], 0, 6)


async def test_bad_paging_is_a_problem(client: httpx.AsyncClient, runs: tuple[int, int]) -> None:
    a, b = runs
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"changed": "maybe"}):
        assert_problem(await client.get("/v1/runs/compare", params={"a": a, "b": b, **params}), 422)
    assert_problem(await client.get("/v1/runs/compare", params={"a": a, "b": 424242}), 404)


async def test_the_run_before_another_of_the_same_prompt_and_suite(
    client: httpx.AsyncClient, runs: tuple[int, int]
) -> None:
    a, b = runs
    params = {"prompt": PROMPT, "suite": "compare-quality", "limit": 1}
    previous = (await client.get("/v1/runs", params={**params, "before": b})).json()
    assert [run["id"] for run in previous["items"]] == [a]
    assert (await client.get("/v1/runs", params={**params, "before": a})).json()["total"] == 0
    assert_problem(await client.get("/v1/runs", params={"before": 0}), 422)
