"""The import that registers every table on the shared metadata (migrations and tests use it)."""

from __future__ import annotations

import api.identity.models  # noqa: F401  (registers the api_keys table)
import evals.connections.models
import evals.models  # registers the evaluation tables
import evals.monitors.models
import evals.webhooks.models  # noqa: F401  (registers the webhook tables)
import prompts.models  # noqa: F401  (registers the prompt tables)
import tracing.models  # registers the tracing tables
import tracing.rollups.models  # noqa: F401  (registers the rollup table)
from api.identity.models import ApiKey
from prompts.base import metadata

__all__ = ["ApiKey", "metadata"]
