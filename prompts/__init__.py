"""Prompt domain: prompts, immutable versions, rendering, labels, promotion policy and diffs.

Entry points: `prompts.service` (publish_version, resolve_prompt, ...), `prompts.labels` (moves)
and `prompts.render` (the one renderer shared by the server, evals, client and gateway).
"""
