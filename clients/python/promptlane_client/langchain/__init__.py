"""LangChain integration (the `langchain` extra): `Prompt.to_langchain()` and tracing.

Entry points: `promptlane_client.langchain.tracing.PromptlaneCallbackHandler`; the template
`Prompt.to_langchain()` returns is built by `promptlane_client.langchain.prompt`.
"""
