"""Whole traces: every ingested span stored, prompt links that follow the trace, retention.

Entry points: `spans.span_row` / `spans.store_spans`, `linkage.link_of` (the conventions a
link is read from), `relink.resolve_links` / `relink.relink`, `queries` (the read side).
"""
