"""Datasets: immutable versions of items, their files and diffs.

Entry points: `service` (publish, read, diff), `files` (JSON, JSONL, CSV parsing).
"""
