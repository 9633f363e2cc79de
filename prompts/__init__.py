"""Prompt domain: prompts, immutable versions, rendering, labels, promotion policy and diffs.

Entry points: `prompts.service` (publish_version, resolve_prompt, render_prompt, move_label, ...)
and `prompts.render` (the one renderer shared by the server, evals, client and gateway).
"""
