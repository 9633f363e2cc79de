"""`GET /v1/models`: what a key may call through the gateway, in OpenAI's list shape.

Prompt references (`promptlane/<name>` for a prompt whose production label is set, and
`promptlane/<name>@<label>` for each label; archived prompts are left out), the offline
models unless they are switched off, and the plain models admins offer through connections
(`gateway_models`). Nothing secret: no endpoint, key or key variable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from evals.connections.models import Connection
from evals.llm.offline import MODELS as OFFLINE_MODELS
from prompts.models import Label, Prompt
from prompts.service import DEFAULT_LABEL

PROMPT_PREFIX: Final = "promptlane/"
_EPOCH: Final = 0


class ModelEntry(BaseModel):
    """One model in OpenAI's shape."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """OpenAI's `GET /v1/models` body."""

    object: Literal["list"] = "list"
    data: list[ModelEntry]


def _unix(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment is not None else _EPOCH


async def list_models(session: AsyncSession, *, offline_models: bool) -> ModelList:
    """Return every model id the gateway answers for a reader, sorted within each kind."""
    entries: list[ModelEntry] = []
    labels = await session.execute(
        sa.select(col(Prompt.name), col(Label.name), col(Label.updated_at))
        .join(Label, col(Label.prompt_id) == col(Prompt.id))
        .where(col(Prompt.archived_at).is_(None))
        .order_by(col(Prompt.name), col(Label.name))
    )
    for prompt, label, updated_at in labels:
        created = _unix(updated_at)
        if label == DEFAULT_LABEL:
            entries.append(
                ModelEntry(id=PROMPT_PREFIX + prompt, created=created, owned_by="promptlane")
            )
        entries.append(
            ModelEntry(
                id=f"{PROMPT_PREFIX}{prompt}@{label}", created=created, owned_by="promptlane"
            )
        )
    if offline_models:
        entries += [
            ModelEntry(id=f"offline/{name}", created=_EPOCH, owned_by="promptlane-offline")
            for name in OFFLINE_MODELS
        ]
    connections = await session.execute(
        sa.select(
            col(Connection.name), col(Connection.gateway_models), col(Connection.created_at)
        ).order_by(col(Connection.name))
    )
    for name, models, created_at in connections:
        entries += [
            ModelEntry(id=model, created=_unix(created_at), owned_by=f"connection:{name}")
            for model in sorted(models or [])
        ]
    return ModelList(data=entries)
