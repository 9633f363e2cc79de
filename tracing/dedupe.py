"""One call, one generation: an ingested client span of a gateway call is its twin, not a call.

An application instrumented with OpenTelemetry that calls through the gateway reports each call
twice: its client span (ingested, `source = "ingest"`) and the gateway's own generation
(`source = "gateway"`). The gateway answers every call with a chat completion id of its own,
`chatcmpl-promptlane-<32 hex>` (`gateway_response_id`), and stores it as the generation's
`response_id`; instrumentations record that id on the client span as `gen_ai.response.id`
(OpenLLMetry, the LangChain handler) or in the response they record as `output.value`
(OpenInference, unless it hides outputs).

`mark_gateway_twins` runs on every ingested row before it is stored: it moves the span's
response id to the `response_id` column and marks a span whose id is a gateway's
`is_duplicate`. The decision needs no lookup, so it holds whichever arrives first (the gateway
writes its rows in background batches; a client may export before or after) and on every
replica. A twin is stored (its trace stays whole, its client-side attributes stay readable,
joined to the gateway's row by `response_id`) but is left out of analytics, metrics and online
evaluation: the gateway's row is the call, with its tokens and cost.

The call's prompt link: a gateway call of `promptlane/<prompt>` carries its own; a call of a
plain model carries none, while its twin often does (its own attributes or an ancestor's, e.g.
`prompt.link()` or the LangChain handler). A counted gateway row without a link takes its
twin's, whichever is stored first, and never loses a link it has:

- `link_gateway_calls`: a twin stored (or relinked by a late ancestor) with a link gives it to
  the stored gateway row of its response id, in the same transaction, rollups moved;
- `link_from_twins`: a gateway row inserted after its twin takes the twin's link before it is
  inserted (`tracing.inserts.insert_rows`), so the rollups count it right the first time.

When several twins of one response id carry links, the first stored (lowest id) gives it. On
PostgreSQL both sides take a transaction advisory lock per response id (hashed into 1,024 keys,
taken in order, after the fold state's share lock as every rollup writer) before they look: a
twin and its gateway row stored at the same time would otherwise not see each other (READ
COMMITTED), and the link be missed. On SQLite writers are serialised (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tracing import semconv
from tracing.models import Generation
from tracing.rollups import write as rollups
from tracing.traces.linkage import COLUMNS, NO_LINK, Link
from tracing.traces.relink import Relinked

GATEWAY_ID_PREFIX: Final = "chatcmpl-promptlane-"
_MAX_ID_CHARS: Final = 200  # the column's length
GATEWAY: Final = "gateway"  # the source of the gateway's own rows
TABLE: Final = cast(sa.Table, Generation.__table__)  # type: ignore[attr-defined]
_CHUNK: Final = 500  # response ids per IN list
OUTPUT_VALUE: Final = "output.value"  # OpenInference: the response, as JSON
_LOCK_CLASS: Final = 0x74776C6E  # "twln": pg_advisory_xact_lock(class, key), a key space apart
_LOCK_KEYS: Final = 1024


def gateway_response_id() -> str:
    """Return a new id for a gateway response (what the client's span records)."""
    return GATEWAY_ID_PREFIX + uuid.uuid4().hex


def is_gateway_response(response_id: str | None) -> bool:
    """Return whether a response id was minted by a promptlane gateway."""
    return response_id is not None and response_id.startswith(GATEWAY_ID_PREFIX)


def span_response_id(attributes: Mapping[str, Any]) -> str | None:
    """Return the response id a span recorded.

    Its `gen_ai.response.id`, else a gateway's id as the top-level `id` of an OpenInference
    `output.value` (the response, as JSON).
    """
    value = attributes.get(semconv.GEN_AI_RESPONSE_ID)
    if isinstance(value, str) and value:
        return value
    output = attributes.get(OUTPUT_VALUE)
    if not isinstance(output, str) or GATEWAY_ID_PREFIX not in output:
        return None  # parsed only when it names a gateway response: rare, and cheap then
    try:
        found = json.loads(output)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    value = found.get("id") if isinstance(found, dict) else None
    return value if isinstance(value, str) and is_gateway_response(value) else None


def mark_gateway_twins(rows: Iterable[MutableMapping[str, Any]]) -> int:
    """Fill ingested rows' `response_id` from their span; mark gateway twins; return how many.

    A row's `response_id` is what its span recorded (`span_response_id`, set when the row was
    built), else its `gen_ai.response.id` attribute.
    """
    twins = 0
    for row in rows:
        value = row.get("response_id") or (row.get("attributes") or {}).get(
            semconv.GEN_AI_RESPONSE_ID
        )
        if not isinstance(value, str) or not value:
            continue
        row["response_id"] = value[:_MAX_ID_CHARS]
        if is_gateway_response(value):
            row["is_duplicate"] = True
            twins += 1
    return twins


def _unlinked(row: Mapping[str, Any]) -> bool:
    return all(row.get(column) is None for column in COLUMNS)


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(values))
    for i in range(0, len(ordered), _CHUNK):
        yield ordered[i : i + _CHUNK]


async def _lock(session: AsyncSession, response_ids: Iterable[str]) -> None:
    """Serialise, until commit, the transactions linking a call and its twins (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({zlib.crc32(rid.encode()) % _LOCK_KEYS for rid in response_ids})
    if not keys:
        return
    await rollups.folded_until(session, lock=True)  # first, as every rollup writer
    # One statement, keys taken in ascending order (volatile functions in the select list run
    # after ORDER BY): two linkers never wait on each other in a cycle.
    await session.execute(
        sa.text(
            "SELECT pg_advisory_xact_lock(:lock_class, key) "
            "FROM unnest(CAST(:keys AS integer[])) AS key ORDER BY key"
        ),
        {"lock_class": _LOCK_CLASS, "keys": keys},
    )


def _first_links(twins: Iterable[tuple[int, str | None, Link | None]]) -> dict[str, Link]:
    """Return, per gateway response id, the link of its first stored (lowest id) linked twin."""
    out: dict[str, Link] = {}
    for _, response_id, link in sorted(twins, key=lambda twin: twin[0]):
        if link is not None and is_gateway_response(response_id):
            out.setdefault(cast(str, response_id), link)
    return out


async def link_from_twins(session: AsyncSession, rows: Iterable[MutableMapping[str, Any]]) -> int:
    """Give unlinked gateway rows the link of their stored twin; return how many took one."""
    waiting: dict[str, list[MutableMapping[str, Any]]] = {}
    for row in rows:
        response_id = row.get("response_id")
        if row.get("source") != GATEWAY or not _unlinked(row) or not isinstance(response_id, str):
            continue
        if is_gateway_response(response_id):
            waiting.setdefault(response_id, []).append(row)
    if not waiting:
        return 0
    await _lock(session, waiting)
    twins: list[tuple[int, str | None, Link | None]] = []
    columns = [TABLE.c.id, TABLE.c.response_id, *(TABLE.c[name] for name in COLUMNS)]
    for chunk in _chunks(waiting):
        result = await session.execute(
            sa.select(*columns).where(
                TABLE.c.response_id.in_(chunk),
                TABLE.c.is_duplicate.is_(True),
                TABLE.c.source != GATEWAY,
                sa.or_(TABLE.c.prompt_name.is_not(None), TABLE.c.run_id.is_not(None)),
            )
        )
        twins.extend((r["id"], r["response_id"], Link.of_columns(r)) for r in result.mappings())
    linked = 0
    for response_id, link in _first_links(twins).items():
        for row in waiting[response_id]:
            row.update(link.columns())
            linked += 1
    return linked


async def link_gateway_calls(
    session: AsyncSession, twins: Iterable[Mapping[str, Any]]
) -> list[Relinked]:
    """Give stored unlinked gateway rows the link of these just stored (or relinked) twins.

    `twins` are generation rows as stored, with their `id`; rows that are not linked twins are
    ignored. Returns the gateway rows changed (moved in the rollups here, as `relink` does).
    """
    by_id = _first_links(
        (row["id"], row.get("response_id"), Link.of_columns(row))
        for row in twins
        if row.get("is_duplicate") and row.get("source") != GATEWAY
    )
    ids_by_link: dict[Link, list[str]] = {}
    for response_id, link in by_id.items():
        ids_by_link.setdefault(link, []).append(response_id)
    await _lock(session, by_id)
    changed: list[Relinked] = []
    for link, response_ids in ids_by_link.items():
        for chunk in _chunks(response_ids):
            # The condition is in the UPDATE, not read before it: a row another transaction
            # linked meanwhile is left alone (and its rollups too).
            result = await session.execute(
                sa.update(TABLE)
                .where(
                    TABLE.c.response_id.in_(chunk),
                    TABLE.c.source == GATEWAY,
                    TABLE.c.is_duplicate.is_(False),
                    *(TABLE.c[name].is_(None) for name in COLUMNS),
                )
                .values(**link.columns())
                .returning(*TABLE.c)
            )
            for row in result.mappings():
                after = dict(row)
                changed.append(Relinked({**after, **NO_LINK.columns()}, after))
    await rollups.apply_changes(session, [(c.before, c.after) for c in changed])
    return changed
