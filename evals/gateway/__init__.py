"""The OpenAI-compatible gateway's domain: a prompt reference becomes a model call.

Entry points: `calls` (prepare, complete, record), `stream`, `writer` (batched generations).
"""
