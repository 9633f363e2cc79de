"""Tracing domain: OpenTelemetry setup, GenAI conventions, metrics, OTLP ingest and analytics.

Entry points: `setup.configure` (providers, exporters, metrics), `telemetry.Telemetry`,
`ingest.decode_batch` (OTLP/HTTP) / `ingest.decode_message` (OTLP/gRPC) then
`ingest.store_batch` (trace ingest), `inserts.insert_rows`
(every generation row, built as a `generation.GenerationRow`, normalised by
`normalise.normalise_row`), `traces` (every ingested span, links along the trace, the trace
list and tree, retention).
"""
