"""When a monitor checks: the ticks of its cron expression (croniter), or every window.

A tick is a period: the scheduler runs the newest tick that has passed and records the older
ones it missed (at most `CATCH_UP`) as superseded, so a restart neither skips nor doubles one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from croniter import croniter

CATCH_UP: Final = 24  # missed periods recorded (superseded) at most, newest first


def cron_problem(expression: str) -> str | None:
    """Say what is wrong with a cron expression (five fields or a macro like @hourly), or None."""
    fields = expression.split()
    if not (len(fields) == 5 or (len(fields) == 1 and expression.startswith("@"))):
        return f"invalid cron expression {expression[:200]!r}: give five fields, e.g. '0 * * * *'"
    try:
        croniter(expression, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        return f"invalid cron expression {expression[:200]!r}: {str(exc)[:200]}"
    return None


@dataclass(frozen=True)
class Cadence:
    """A monitor's ticks: its cron expression's, else every `every` seconds from the epoch."""

    cron: str | None
    every: int

    def next_after(self, at: datetime) -> datetime:
        """Return the first tick strictly after `at`."""
        if self.cron is not None:
            return _utc(croniter(self.cron, at).get_next(datetime))
        seconds = int(at.timestamp()) // self.every * self.every + self.every
        return datetime.fromtimestamp(seconds, UTC)

    def passed(self, since: datetime, now: datetime) -> list[datetime]:
        """Return the ticks in [since, now], newest first, at most CATCH_UP + 1 of them."""
        found: list[datetime] = []
        if self.cron is not None:
            ticks = croniter(self.cron, now + timedelta(minutes=1))
            while len(found) <= CATCH_UP:
                tick = _utc(ticks.get_prev(datetime))
                if tick < since:
                    break
                if tick <= now:
                    found.append(tick)
            return found
        newest = int(now.timestamp()) // self.every * self.every
        while len(found) <= CATCH_UP and newest >= since.timestamp():
            found.append(datetime.fromtimestamp(newest, UTC))
            newest -= self.every
        return found


def _utc(value: datetime) -> datetime:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.replace(fold=0)


def period_key(tick: datetime) -> str:
    """Return the key of the period starting at `tick` (its UTC time, to the second)."""
    return tick.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
