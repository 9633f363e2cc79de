"""The model-call layer: every way a model is called.

Entry points: `client.ModelClient` (the native path: `offline` models in-process, OpenAI-compatible
connections in `http`; litellm for the rest), `completion.Completion`, the response `cache`.
"""
