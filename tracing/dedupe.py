"""One call, one generation: an ingested client span of a gateway call is its twin, not a call.

An application instrumented with OpenTelemetry that calls through the gateway reports each call
twice: its client span (ingested, `source = "ingest"`) and the gateway's own generation
(`source = "gateway"`). The gateway answers every call with a chat completion id of its own,
`chatcmpl-promptlane-<32 hex>` (`gateway_response_id`), and stores it as the generation's
`response_id`; instrumentations record that id on the client span as `gen_ai.response.id`.

`mark_gateway_twins` runs on every ingested row before it is stored: it moves the span's
response id to the `response_id` column and marks a span whose id is a gateway's
`is_duplicate`. The decision needs no lookup, so it holds whichever arrives first (the gateway
writes its rows in background batches; a client may export before or after) and on every
replica. A twin is stored (its trace stays whole, its client-side attributes stay readable,
joined to the gateway's row by `response_id`) but is left out of analytics, metrics and online
evaluation: the gateway's row is the call, with its prompt link, tokens and cost.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, MutableMapping
from typing import Any, Final

from tracing import semconv

GATEWAY_ID_PREFIX: Final = "chatcmpl-promptlane-"
_MAX_ID_CHARS: Final = 200  # the column's length


def gateway_response_id() -> str:
    """Return a new id for a gateway response (what the client's span records)."""
    return GATEWAY_ID_PREFIX + uuid.uuid4().hex


def is_gateway_response(response_id: str | None) -> bool:
    """Return whether a response id was minted by a promptlane gateway."""
    return response_id is not None and response_id.startswith(GATEWAY_ID_PREFIX)


def mark_gateway_twins(rows: Iterable[MutableMapping[str, Any]]) -> int:
    """Fill ingested rows' `response_id` from their span; mark gateway twins; return how many."""
    twins = 0
    for row in rows:
        value = (row.get("attributes") or {}).get(semconv.GEN_AI_RESPONSE_ID)
        if not isinstance(value, str) or not value:
            continue
        row["response_id"] = value[:_MAX_ID_CHARS]
        if is_gateway_response(value):
            row["is_duplicate"] = True
            twins += 1
    return twins
