"""The span attribute names the client writes: their one definition.

The server's `tracing.semconv` imports these and adds its own (the server depends on the client
package, never the other way round, so the client stays light).
"""

from __future__ import annotations

from typing import Final

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
ERROR_TYPE: Final = "error.type"
OPERATION_CHAT: Final = "chat"
# Not an attribute: the response header in which the gateway repeats its completion id, for
# clients that cannot read the id of a streamed answer (LangChain's ChatOpenAI drops it).
GATEWAY_RESPONSE_ID_HEADER: Final = "promptlane-response-id"
# The response header in which the gateway gives what a non-streamed call cost (USD, as the
# generation records it); absent when the model has no price. OpenAI clients ignore it.
GATEWAY_COST_HEADER: Final = "promptlane-cost-usd"

PROMPT_NAME: Final = "promptlane.prompt.name"
PROMPT_VERSION: Final = "promptlane.prompt.version"
PROMPT_LABEL: Final = "promptlane.prompt.label"
PROMPT_CONTENT_HASH: Final = "promptlane.prompt.content_hash"
PROMPT_ATTRIBUTES: Final = (PROMPT_NAME, PROMPT_VERSION, PROMPT_LABEL, PROMPT_CONTENT_HASH)
