"""What a delivery's body holds: the event as minified JSON, or a Slack message about it."""

from __future__ import annotations

import json
from typing import Any

from prompts import events
from prompts.models import Event


def _timestamp(event: Event) -> str:
    return event.occurred_at.isoformat().replace("+00:00", "Z")


def standard(event: Event) -> dict[str, Any]:
    """Return the Standard Webhooks payload: type, timestamp and data."""
    return {"type": event.type, "timestamp": _timestamp(event), "data": event.data}


def _version(value: Any) -> str:
    return "nothing" if value is None else f"v{value}"


def summary(event: Event) -> str:
    """Return one line saying what happened, for chat messages."""
    d = event.data
    by = f" by {event.actor}" if event.actor else ""
    match event.type:
        case events.PROMPT_VERSION_PUBLISHED:
            return f"{d.get('prompt')} {_version(d.get('version'))} published{by}"
        case events.LABEL_MOVED:
            moved = f"{_version(d.get('from_version'))} → {_version(d.get('to_version'))}"
            forced = " (forced)" if d.get("is_forced") else ""
            return f"{d.get('prompt')}: {d.get('label')} {moved}{forced}{by}"
        case events.LABEL_MOVE_REFUSED:
            return (
                f"{d.get('prompt')}: moving {d.get('label')} to {_version(d.get('to_version'))} "
                f"refused{by}: {d.get('detail')}"
            )
        case events.POLICY_CHANGED:
            return f"policy for {d.get('label')} {d.get('action')}{by}"
        case events.RUN_FINISHED:
            verdict = f", {d['verdict']}" if d.get("verdict") else ""
            return f"run {d.get('run_id')} of {d.get('suite')} {d.get('status')}{verdict}"
        case events.MONITOR_FIRED:
            return (
                f"monitor {d.get('monitor')} fired on {d.get('prompt')}: {d.get('label')} "
                f"({_version(d.get('version'))}), incident {d.get('incident_id')}"
            )
        case events.INCIDENT_RESOLVED:
            return (
                f"incident {d.get('incident_id')} on {d.get('prompt')}: {d.get('label')} "
                f"resolved{by}: {d.get('reason')}"
            )
        case events.WEBHOOK_ENDPOINT_PAUSED:
            return f"webhook {d.get('name')} paused: {d.get('reason')}"
    return f"{event.type}{by}"


def slack(event: Event) -> dict[str, Any]:
    """Return a Slack incoming-webhook message about the event."""
    # Slack reads <...> as links and mentions: escaped, no text can ping a channel.
    line = summary(event).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = f"[promptlane] {line}"[:3_000]
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def body(event: Event, format_: str) -> bytes:
    """Return the request body of a delivery in the endpoint's format (minified JSON)."""
    payload = slack(event) if format_ == "slack" else standard(event)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
