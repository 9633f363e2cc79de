"""The one path an OTLP export takes after decoding, whatever its transport (HTTP or gRPC).

POST /v1/traces (api/server/routes/traces.py) and the OTLP/gRPC receiver
(api/server/otlp_grpc.py) decode a request their own way, then hand the batch here: stored in
one transaction, counted in the metrics, offered to online evaluation. A change to what ingest
does belongs here, so both transports keep doing the same.
"""

from __future__ import annotations

from typing import Final

from api.server.services import Services
from api.settings import Settings
from tracing import ingest
from tracing.ingest import Batch, IngestResult

# A compressed export may inflate to this many times the body size limit (OTLP compresses
# ~5-10x); it is also the largest OTLP/gRPC message, compressed or not.
MAX_INFLATION: Final = 10


def max_export_bytes(settings: Settings) -> int:
    """Return the most bytes one decompressed export request may hold."""
    return settings.max_body_bytes * MAX_INFLATION


async def receive(services: Services, batch: Batch) -> IngestResult:
    """Store a decoded export's generations, count them, and offer them to online evaluation."""
    # Sampled rows keep the content their scorers read; the others only if content is recorded.
    await services.content.prepare(list(batch.rows.values()))
    # One transaction per export: online evaluation must only see committed generations.
    async with services.db.transaction() as session:
        result = await ingest.store_batch(session, batch)
    ingest.observe(services.metrics, result)
    if services.online_evaluator is not None:
        await services.online_evaluator.submit(result.generations)
    return result
