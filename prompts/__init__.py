"""Prompt domain: prompts, immutable versions, rendering, labels, promotion policy and diffs.

Entry points: `prompts.service` (publish_version, resolve_prompt, ...), `prompts.labels` (moves)
and `prompts.render_pool` (the server's entry to the one renderer, `promptlane_client.render`).
"""
