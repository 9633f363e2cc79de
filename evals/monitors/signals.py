"""Production signals a monitor reads over its window, from the rollups (tracing.analytics).

Each metric is read for the calls of the version the label holds, made through that label
(the gateway and instrumented applications record it): an eval run's calls carry no label,
so a monitor's own re-runs never count.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from evals.monitors.schemas import SignalSpec
from tracing.analytics import UsageFilter, usage
from tracing.drift import drift
from tracing.rollups.write import INPUT_CHARS
from tracing.schemas import UsageRow

_OPS: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
DRIFT_BASELINE: Final = timedelta(days=7)


@dataclass(frozen=True)
class Reading:
    """A metric's value over a window and how many samples it rests on (None: no samples)."""

    value: float | None
    samples: int
    detail: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What a signal check found: fired, ok or insufficient, and its evidence."""

    status: str
    evidence: dict[str, Any]


def _usage_reading(spec: SignalSpec, row: UsageRow | None) -> Reading:
    if row is None or not row.calls:
        return Reading(None, 0, {"calls": 0})
    calls = {"calls": row.calls}
    if spec.metric == "error_rate":
        return Reading(row.errors / row.calls, row.calls, {**calls, "errors": row.errors})
    if spec.metric == "cost_per_call":
        return Reading(row.cost_usd / row.calls, row.calls, {**calls, "cost_usd": row.cost_usd})
    if spec.metric == "score_mean":
        score = row.scores.get(spec.score or "")
        if score is None:
            return Reading(None, 0, {**calls, "scored": 0})
        return Reading(score.mean, score.count, {**calls, "scored": score.count})
    flags = row.safety_flags
    flag = spec.score or max(flags, key=lambda f: (flags[f], f), default=None)
    flagged = flags.get(flag, 0) if flag else 0
    return Reading(flagged / row.calls, row.calls, {**calls, "flag": flag, "flagged": flagged})


async def read_metric(
    session: AsyncSession, spec: SignalSpec, *, prompt: str, label: str, version: int, now: datetime
) -> Reading:
    """Return the metric of `spec` over the window ending at `now`."""
    start = now - timedelta(seconds=spec.window_seconds)
    if spec.metric == "drift_psi":
        name = spec.score or INPUT_CHARS
        found = await drift(
            session,
            prompt=prompt,
            version=version,
            metric=name,
            baseline=DRIFT_BASELINE,
            recent=timedelta(seconds=spec.window_seconds),
            min_samples=spec.min_samples,
            now=now,
        )
        signal = found.signals[0]
        samples = min(signal.baseline_count, signal.recent_count)
        detail = {
            "series": name,
            "baseline_count": signal.baseline_count,
            "recent_count": signal.recent_count,
            "baseline_start": found.baseline_start.isoformat(),
        }
        return Reading(signal.psi, samples, detail)
    read = await usage(
        session,
        group_by=("prompt",),
        start=start,
        end=now,
        filters=UsageFilter(prompt=prompt, version=version, label=label),
        now=now,
    )
    return _usage_reading(spec, read.rows[0] if read.rows else None)


async def check_signal(
    session: AsyncSession, spec: SignalSpec, *, prompt: str, label: str, version: int, now: datetime
) -> Outcome:
    """Read the signal and say whether it fires (too few samples: insufficient)."""
    reading = await read_metric(session, spec, prompt=prompt, label=label, version=version, now=now)
    evidence: dict[str, Any] = {
        "trigger": "signal",
        "metric": spec.metric,
        "op": spec.op,
        "threshold": spec.threshold,
        "value": reading.value,
        "samples": reading.samples,
        "min_samples": spec.min_samples,
        "window": {
            "start": (now - timedelta(seconds=spec.window_seconds)).isoformat(),
            "end": now.isoformat(),
        },
        **reading.detail,
    }
    if spec.score:
        evidence["score"] = spec.score
    if reading.value is None or reading.samples < spec.min_samples:
        return Outcome("insufficient", evidence)
    fired = _OPS[spec.op](reading.value, spec.threshold)
    return Outcome("fired" if fired else "ok", evidence)
