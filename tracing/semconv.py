"""Attribute and metric names: the OTel GenAI conventions we use, and `promptlane.*` ones.

The GenAI conventions are still incubating in opentelemetry-semantic-conventions (and were
renamed: `gen_ai.system` became `gen_ai.provider.name`), so the names are pinned here.
"""

from __future__ import annotations

from typing import Final

# --- OTel GenAI semantic conventions -----------------------------------------------------
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
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"  # noqa: S105 (a name, not a secret)
ERROR_TYPE: Final = "error.type"

OPERATION_CHAT: Final = "chat"
TOKEN_INPUT: Final = "input"  # noqa: S105
TOKEN_OUTPUT: Final = "output"  # noqa: S105

# Request parameters of an LLM config and the attribute each is recorded as.
REQUEST_PARAMS: Final[dict[str, str]] = {
    "temperature": GEN_AI_REQUEST_TEMPERATURE,
    "max_tokens": GEN_AI_REQUEST_MAX_TOKENS,
    "top_p": GEN_AI_REQUEST_TOP_P,
    "stop": GEN_AI_REQUEST_STOP_SEQUENCES,
    "seed": GEN_AI_REQUEST_SEED,
}

# --- promptlane ---------------------------------------------------------------------------
PROMPT_NAME: Final = "promptlane.prompt.name"
PROMPT_VERSION: Final = "promptlane.prompt.version"
PROMPT_LABEL: Final = "promptlane.prompt.label"
PROMPT_CONTENT_HASH: Final = "promptlane.prompt.content_hash"
RUN_ID: Final = "promptlane.run.id"
RUN_VARIANT: Final = "promptlane.run.variant"
ITEM_POSITION: Final = "promptlane.item.position"
ITEM_REPEAT: Final = "promptlane.item.repeat"
COST_USD: Final = "promptlane.cost_usd"
CACHED: Final = "promptlane.cached"
SAFETY_FLAGS: Final = "promptlane.safety.flags"
SCORER_NAME: Final = "promptlane.scorer.name"
SCORER_KIND: Final = "promptlane.scorer.kind"
SCORE_EVENT: Final = "promptlane.score"
# Keys an application (or promptlane) puts in a generation's attributes for online evaluation.
EXPECTED: Final = "promptlane.expected"
ONLINE_EVAL_REASON: Final = "promptlane.online_eval.reason"
GENERATION_ID: Final = "promptlane.generation.id"
SCORE_PREFIX: Final = "promptlane.score."  # + <metric>

# --- span names ---------------------------------------------------------------------------
SPAN_RUN: Final = "eval run"
SPAN_ITEM: Final = "eval item"
SPAN_PROMPT_RESOLVE: Final = "prompt resolve"
SPAN_PROMPT_RENDER: Final = "prompt render"
SPAN_ONLINE_EVAL: Final = "online eval"


def score_attribute(metric: str) -> str:
    """Return the attribute a metric's score is recorded under: `promptlane.score.<metric>`."""
    return SCORE_PREFIX + metric


def chat_span_name(model: str) -> str:
    """Return a model call's span name, `chat {model}` as the GenAI conventions say."""
    return f"{OPERATION_CHAT} {model}"
