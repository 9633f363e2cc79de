"""Tracing domain: OpenTelemetry setup, GenAI conventions, metrics, OTLP ingest and analytics.

Entry points: `setup.configure` (providers, exporters, metrics), `telemetry.Telemetry`.
"""
