"""Tracing domain: OpenTelemetry setup, GenAI conventions, cost, OTLP ingest and analytics.

Empty until the tracing work lands.
"""
