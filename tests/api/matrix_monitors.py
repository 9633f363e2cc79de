"""The role matrix's monitor and incident routes, and what they need seeded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from api.db import Database
from evals.monitors.models import LabelIncident
from prompts.policy import Role

MONITOR = "matrix"
SIGNAL = {"metric": "error_rate", "op": ">", "threshold": 0.5, "window_seconds": 3600}
Build = Callable[[str], tuple[str, dict[str, Any]]]


def monitor_json(name: str, prompt: str) -> dict[str, Any]:
    return {
        "name": name,
        "prompt": prompt,
        "label": "staging",
        "trigger": "signal",
        "signal": SIGNAL,
    }


def routes(prompt: str) -> dict[tuple[str, str], tuple[Role, Build]]:
    """Each route with the role it needs and how to call it validly."""
    return {
        ("POST", "/v1/monitors"): (
            Role.ADMIN,
            lambda t: ("/v1/monitors", {"json": monitor_json(f"mon-{t}", prompt)}),
        ),
        ("GET", "/v1/monitors"): (Role.READER, lambda t: ("/v1/monitors", {})),
        ("GET", "/v1/monitors/{name}"): (Role.READER, lambda t: (f"/v1/monitors/{MONITOR}", {})),
        ("PATCH", "/v1/monitors/{name}"): (
            Role.ADMIN,
            lambda t: (f"/v1/monitors/{MONITOR}", {"json": {"description": t}}),
        ),
        ("DELETE", "/v1/monitors/{name}"): (Role.ADMIN, lambda t: ("/v1/monitors/doomed", {})),
        ("POST", "/v1/monitors/{name}/trigger"): (
            Role.WRITER,
            lambda t: (f"/v1/monitors/{MONITOR}/trigger", {}),
        ),
        ("GET", "/v1/monitors/{name}/events"): (
            Role.READER,
            lambda t: (f"/v1/monitors/{MONITOR}/events", {}),
        ),
        ("GET", "/v1/incidents"): (
            Role.READER,
            lambda t: ("/v1/incidents", {"params": {"open": "true"}}),
        ),
        ("GET", "/v1/incidents/{incident_id}"): (
            Role.READER,
            lambda t: ("/v1/incidents/{incident}", {}),
        ),
        ("GET", "/v1/incidents/{incident_id}/events"): (
            Role.READER,
            lambda t: ("/v1/incidents/{incident}/events", {}),
        ),
        ("POST", "/v1/incidents/{incident_id}/resolve"): (
            Role.WRITER,
            lambda t: ("/v1/incidents/{incident}/resolve", {"json": {"reason": f"fixed {t}"}}),
        ),
    }


async def seed(client: httpx.AsyncClient, db: Database, prompt: str) -> dict[str, int]:
    """Two monitors (one to delete) and an open incident; return the incident's id."""
    for name in (MONITOR, "doomed"):
        created = await client.post("/v1/monitors", json=monitor_json(name, prompt))
        assert created.status_code == 201, created.text
    async with db.transaction() as session:
        incident = LabelIncident(prompt=prompt, label="staging")
        session.add(incident)
        await session.flush()
        assert incident.id is not None
        return {"incident": incident.id}
