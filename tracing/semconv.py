"""Attribute and metric names: the OTel GenAI conventions we use, and `promptlane.*` ones.

The GenAI conventions are still incubating in opentelemetry-semantic-conventions (and were
renamed: `gen_ai.system` became `gen_ai.provider.name`), so the names are pinned here.
"""

from __future__ import annotations

from typing import Final

# The names the client writes too are defined there, once (re-exported here).
from promptlane_client.semconv import ERROR_TYPE as ERROR_TYPE
from promptlane_client.semconv import GATEWAY_COST_HEADER as GATEWAY_COST_HEADER
from promptlane_client.semconv import GATEWAY_RESPONSE_ID_HEADER as GATEWAY_RESPONSE_ID_HEADER
from promptlane_client.semconv import GEN_AI_INPUT_MESSAGES as GEN_AI_INPUT_MESSAGES
from promptlane_client.semconv import GEN_AI_OPERATION_NAME as GEN_AI_OPERATION_NAME
from promptlane_client.semconv import GEN_AI_OUTPUT_MESSAGES as GEN_AI_OUTPUT_MESSAGES
from promptlane_client.semconv import GEN_AI_PROVIDER_NAME as GEN_AI_PROVIDER_NAME
from promptlane_client.semconv import GEN_AI_REQUEST_MAX_TOKENS as GEN_AI_REQUEST_MAX_TOKENS
from promptlane_client.semconv import GEN_AI_REQUEST_MODEL as GEN_AI_REQUEST_MODEL
from promptlane_client.semconv import GEN_AI_REQUEST_SEED as GEN_AI_REQUEST_SEED
from promptlane_client.semconv import GEN_AI_REQUEST_STOP_SEQUENCES as GEN_AI_REQUEST_STOP_SEQUENCES
from promptlane_client.semconv import GEN_AI_REQUEST_TEMPERATURE as GEN_AI_REQUEST_TEMPERATURE
from promptlane_client.semconv import GEN_AI_REQUEST_TOP_P as GEN_AI_REQUEST_TOP_P
from promptlane_client.semconv import (
    GEN_AI_RESPONSE_FINISH_REASONS as GEN_AI_RESPONSE_FINISH_REASONS,
)
from promptlane_client.semconv import GEN_AI_RESPONSE_ID as GEN_AI_RESPONSE_ID
from promptlane_client.semconv import GEN_AI_RESPONSE_MODEL as GEN_AI_RESPONSE_MODEL
from promptlane_client.semconv import GEN_AI_USAGE_INPUT_TOKENS as GEN_AI_USAGE_INPUT_TOKENS
from promptlane_client.semconv import GEN_AI_USAGE_OUTPUT_TOKENS as GEN_AI_USAGE_OUTPUT_TOKENS
from promptlane_client.semconv import OPERATION_CHAT as OPERATION_CHAT
from promptlane_client.semconv import PROMPT_CONTENT_HASH as PROMPT_CONTENT_HASH
from promptlane_client.semconv import PROMPT_LABEL as PROMPT_LABEL
from promptlane_client.semconv import PROMPT_NAME as PROMPT_NAME
from promptlane_client.semconv import PROMPT_VERSION as PROMPT_VERSION

# --- OTel GenAI semantic conventions -----------------------------------------------------
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"  # noqa: S105 (a name, not a secret)
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
