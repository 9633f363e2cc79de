"""The Python client SDK behind `api.client`: prompts, their cache, async client, integrations.

Entry points: `api.client.Client` / `AsyncClient` (`get_prompt`), `api.sdk.prompt.Prompt`.
"""
