"""The scheduler: once per period, restarts that neither skip nor double, capped catch-up,
timeouts, signal triggers with their minimum sample size, and a refused auto-rollback."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from api.db import Database
from evals.monitors.cadence import CATCH_UP, period_key
from evals.monitors.models import MonitorEvent
from evals.monitors.rollback import auto_rollback
from evals.monitors.scheduler import Scheduler
from prompts import events
from prompts.models import Event
from tests.api.monitoring import PROMPT, at, gated_prompt, monitor, promote
from tests.factories import generation, store_generations

PROTECTED = frozenset({"production"})


async def _events(db: Database) -> list[MonitorEvent]:
    async with db.reader() as session:
        rows = await session.scalars(select(MonitorEvent).order_by(col(MonitorEvent.period_key)))
        return list(rows)


def _signal(**spec: Any) -> dict[str, Any]:
    base = {"metric": "error_rate", "op": ">", "threshold": 0.5, "window_seconds": 3600}
    return {**base, **spec}


async def _signal_monitor(client: httpx.AsyncClient, **spec: Any) -> datetime:
    await promote_plain(client)
    made = await monitor(
        client, name="signals", prompt=PROMPT, label="production", trigger="signal",
        cron="0 * * * *", signal=_signal(**spec),
    )  # fmt: skip
    return at(made["next_due_at"])


async def promote_plain(client: httpx.AsyncClient) -> None:
    """A prompt with production on version 1 and no policy (signals need no suite)."""
    body = {
        "messages": [{"role": "user", "content": "{{ticket}}"}],
        "config": {"model": "offline/echo"},
    }
    published = await client.post(f"/v1/prompts/{PROMPT}/versions", json=body)
    assert published.status_code == 201, published.text
    moved = await client.put(f"/v1/prompts/{PROMPT}/labels/production", json={"version": 1})
    assert moved.status_code == 200, moved.text


async def test_a_restart_neither_skips_nor_doubles_a_period(
    client: httpx.AsyncClient, db: Database
) -> None:
    first = await _signal_monitor(client)
    assert (await Scheduler(db.writer).tick(first)).started == {"insufficient": 1}
    # A restarted process (a new scheduler) at the same moment, then within the period.
    assert (await Scheduler(db.writer).tick(first)).started == {}
    assert (await Scheduler(db.writer).tick(first + timedelta(minutes=59))).started == {}
    assert (await Scheduler(db.writer).tick(first + timedelta(hours=1))).started == {
        "insufficient": 1
    }
    # Down for three periods: the newest runs, the two it missed are recorded superseded.
    report = await Scheduler(db.writer).tick(first + timedelta(hours=4, minutes=5))
    assert report.started == {"insufficient": 1, "superseded": 2}
    found = await _events(db)
    keys = [period_key(first + timedelta(hours=h)) for h in range(5)]
    assert [e.period_key for e in found] == keys
    statuses = [e.status for e in found]
    assert statuses == ["insufficient", "insufficient", "superseded", "superseded", "insufficient"]


async def test_catch_up_records_at_most_the_cap_of_missed_periods(
    client: httpx.AsyncClient, db: Database
) -> None:
    first = await _signal_monitor(client)
    report = await Scheduler(db.writer).tick(first + timedelta(hours=40))
    assert report.started == {"insufficient": 1, "superseded": CATCH_UP}
    assert len(await _events(db)) == CATCH_UP + 1


async def test_runs_that_never_finish_time_the_check_out(
    client: httpx.AsyncClient, db: Database
) -> None:
    await gated_prompt(client, auto_rollback=False)
    await promote(client, db, 1)
    made = await monitor(
        client, name="yearly", prompt=PROMPT, label="production", trigger="schedule",
        cron="0 0 1 1 *",
    )  # fmt: skip
    due = at(made["next_due_at"])
    scheduler = Scheduler(db.writer, timeout=timedelta(hours=6))
    started = await scheduler.tick(due)
    assert started.started == {"running": 1}
    assert len(started.run_ids) == 1
    assert (await scheduler.tick(due + timedelta(hours=5, minutes=59))).settled == {}
    assert (await scheduler.tick(due + timedelta(hours=6, minutes=1))).settled == {"timed_out": 1}
    [event] = await _events(db)
    assert event.status == "timed_out"
    assert event.evidence["runs"][0]["run_id"] == started.run_ids[0]
    assert not [e for e in await _outbox(db) if e.type == events.MONITOR_FIRED]


async def _outbox(db: Database) -> list[Event]:
    async with db.reader() as session:
        return list(await session.scalars(select(Event).order_by(col(Event.id))))


def _calls(n: int, at_: datetime, **row: Any) -> list[Any]:
    base = {
        "source": "gateway",
        "prompt_name": PROMPT,
        "prompt_version": 1,
        "prompt_label": "production",
        "started_at": at_ - timedelta(minutes=10),
    }
    return [generation(**{**base, **row}) for _ in range(n)]


SIGNALS = [
    # metric spec, calls (count, row), expected status
    ({"metric": "error_rate", "op": ">", "threshold": 0.5}, [(6, {"is_error": True})], "fired"),
    ({"metric": "error_rate", "op": ">", "threshold": 0.5}, [(6, {})], "ok"),
    ({"metric": "cost_per_call", "op": ">", "threshold": 0.01}, [(6, {"cost_usd": 0.5})], "fired"),
    ({"metric": "cost_per_call", "op": ">", "threshold": 0.01}, [(6, {"cost_usd": 0.001})], "ok"),
    (
        {"metric": "score_mean", "score": "helpful", "op": "<", "threshold": 0.5},
        [(6, {"scores": {"helpful": 0.1}})],
        "fired",
    ),
    (
        {"metric": "score_mean", "score": "helpful", "op": "<", "threshold": 0.5},
        [(6, {"scores": {"helpful": 0.9}})],
        "ok",
    ),
    (
        {"metric": "safety_flag_rate", "op": ">=", "threshold": 0.5},
        [(4, {"safety_flags": ["pii"]}), (2, {})],
        "fired",
    ),
    ({"metric": "safety_flag_rate", "op": ">=", "threshold": 0.5}, [(6, {})], "ok"),
]


@pytest.mark.parametrize(("spec", "calls", "expected"), SIGNALS)
async def test_signal_triggers_fire_on_their_metric(
    client: httpx.AsyncClient,
    db: Database,
    spec: dict[str, Any],
    calls: list[tuple[int, dict[str, Any]]],
    expected: str,
) -> None:
    due = await _signal_monitor(client, min_samples=5, **spec)
    async with db.transaction() as session:
        for count, row in calls:
            await store_generations(session, *_calls(count, due, **row))
        # Calls of another label, and of an eval run (no label), never count.
        await store_generations(session, *_calls(9, due, prompt_label="staging", is_error=True))
        await store_generations(session, *_calls(9, due, prompt_label=None, source="run"))
    report = await Scheduler(db.writer).tick(due)
    assert report.started == {expected: 1}
    [event] = await _events(db)
    assert event.evidence["samples"] == sum(n for n, _ in calls)
    fired = [e for e in await _outbox(db) if e.type == events.MONITOR_FIRED]
    assert len(fired) == (1 if expected == "fired" else 0)


@pytest.mark.parametrize("metric", ["error_rate", "cost_per_call", "safety_flag_rate"])
async def test_fewer_calls_than_min_samples_are_insufficient_never_a_firing(
    client: httpx.AsyncClient, db: Database, metric: str
) -> None:
    due = await _signal_monitor(client, metric=metric, op=">=", threshold=0, min_samples=10)
    async with db.transaction() as session:
        await store_generations(
            session, *_calls(9, due, is_error=True, cost_usd=1.0, safety_flags=["pii"])
        )
    assert (await Scheduler(db.writer).tick(due)).started == {"insufficient": 1}
    [event] = await _events(db)
    assert (event.evidence["samples"], event.evidence["min_samples"]) == (9, 10)
    assert not [e for e in await _outbox(db) if e.type == events.MONITOR_FIRED]


async def test_score_mean_counts_scored_calls_and_drift_needs_both_windows(
    client: httpx.AsyncClient, db: Database
) -> None:
    due = await _signal_monitor(
        client, metric="score_mean", score="helpful", op="<", threshold=0.5, min_samples=5
    )
    async with db.transaction() as session:
        await store_generations(session, *_calls(3, due, scores={"helpful": 0.0}))
        await store_generations(session, *_calls(9, due))
    assert (await Scheduler(db.writer).tick(due)).started == {"insufficient": 1}
    drift = await monitor(
        client, name="drift", prompt=PROMPT, label="production", trigger="signal",
        signal=_signal(metric="drift_psi", op=">", threshold=0.2, min_samples=5),
    )  # fmt: skip
    assert drift["next_due_at"]
    report = await Scheduler(db.writer).tick(at(drift["next_due_at"]))
    assert report.started.get("insufficient") == 1  # no baseline week of calls


async def test_a_refused_auto_rollback_moves_nothing_and_says_why(
    client: httpx.AsyncClient, db: Database
) -> None:
    await gated_prompt(client, auto_rollback=True)
    await promote(client, db, 1)
    await promote(client, db, 2)
    archived = await client.post(f"/v1/prompts/{PROMPT}/archive", json={"reason": "retired"})
    assert archived.status_code == 200, archived.text
    async with db.transaction() as session:
        result = await auto_rollback(
            session, prompt=PROMPT, label="production", monitor="nightly",
            monitor_event_id=7, protected=PROTECTED,
        )  # fmt: skip
    assert result is not None
    assert (result["moved"], result["from_version"], result["to_version"]) == (False, 2, 1)
    assert "archived" in result["detail"]
    refused = [e for e in await _outbox(db) if e.type == events.LABEL_MOVE_REFUSED]
    assert [(e.actor, e.data["to_version"]) for e in refused] == [("monitor:nightly", 1)]
    labels = (await client.get(f"/v1/prompts/{PROMPT}/labels")).json()
    assert [(label["name"], label["version"]) for label in labels] == [("production", 2)]


async def test_no_rollback_without_an_earlier_passing_version(
    client: httpx.AsyncClient, db: Database
) -> None:
    await gated_prompt(client, auto_rollback=True)
    await promote(client, db, 1)
    async with db.transaction() as session:
        result = await auto_rollback(
            session, prompt=PROMPT, label="production", monitor="nightly",
            monitor_event_id=7, protected=PROTECTED,
        )  # fmt: skip
    assert result == {
        "from_version": 1,
        "moved": False,
        "detail": "no earlier version passed this label's gate",
    }
