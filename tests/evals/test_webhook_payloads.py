"""The one-line summaries chat messages carry for the monitor events."""

from __future__ import annotations

from evals.webhooks import payloads
from prompts import events


def test_monitor_fired_and_incident_resolved_read_as_one_line() -> None:
    fired = events.event_row(
        events.MONITOR_FIRED,
        {
            "monitor": "nightly",
            "prompt": "p",
            "label": "production",
            "version": 2,
            "incident_id": 7,
        },
        actor="monitor:nightly",
    )
    assert payloads.summary(fired) == "monitor nightly fired on p: production (v2), incident 7"
    resolved = events.event_row(
        events.INCIDENT_RESOLVED,
        {"incident_id": 7, "prompt": "p", "label": "production", "reason": "provider fixed"},
        actor="ops",
    )
    assert (
        payloads.summary(resolved) == "incident 7 on p: production resolved by ops: provider fixed"
    )
    assert payloads.slack(fired)["text"].startswith("[promptlane] monitor nightly fired")
