"""The model-call layer: every way a model is called.

Entry points: `client.ModelClient` (litellm, and the native OpenAI-compatible path in `http`),
`offline` models, the response `cache`.
"""
