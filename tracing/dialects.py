"""GenAI attribute dialects: OTel GenAI (current and legacy), OpenInference and OpenLLMetry.

Each field of an ingested generation is read from the first of its names a span carries,
the current OTel convention first. Message content comes from `gen_ai.input.messages` /
`gen_ai.output.messages` (JSON), or from the flattened, indexed names of OpenInference
(`llm.input_messages.0.message.content`) and OpenLLMetry (`gen_ai.prompt.0.content`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from tracing import semconv

# --- OTel GenAI, legacy and extra names ----------------------------------------------------
GEN_AI_SYSTEM: Final = "gen_ai.system"  # renamed gen_ai.provider.name
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
OPERATIONS_NOT_CALLS: Final = frozenset({"execute_tool", "invoke_agent", "create_agent"})

# --- OpenLLMetry (Traceloop) ---------------------------------------------------------------
LLM_REQUEST_TYPE: Final = "llm.request.type"
GEN_AI_USAGE_PROMPT_TOKENS: Final = "gen_ai.usage.prompt_tokens"
GEN_AI_USAGE_COMPLETION_TOKENS: Final = "gen_ai.usage.completion_tokens"
LLM_USAGE_PROMPT_TOKENS: Final = "llm.usage.prompt_tokens"
LLM_USAGE_COMPLETION_TOKENS: Final = "llm.usage.completion_tokens"
OPENLLMETRY_PROMPT: Final = "gen_ai.prompt."  # gen_ai.prompt.<i>.role|content
OPENLLMETRY_COMPLETION: Final = "gen_ai.completion."  # gen_ai.completion.<i>.content|...
REQUEST_TYPES: Final[Mapping[str, str]] = {
    "chat": "chat",
    "completion": "text_completion",
    "embedding": "embeddings",
}

# --- OpenInference (Arize Phoenix) ---------------------------------------------------------
OPENINFERENCE_SPAN_KIND: Final = "openinference.span.kind"
OPENINFERENCE_LLM: Final = "LLM"
LLM_MODEL_NAME: Final = "llm.model_name"
LLM_PROVIDER: Final = "llm.provider"
LLM_SYSTEM: Final = "llm.system"
LLM_TOKEN_COUNT_PROMPT: Final = "llm.token_count.prompt"  # noqa: S105 (a name)
LLM_TOKEN_COUNT_COMPLETION: Final = "llm.token_count.completion"  # noqa: S105
LLM_INVOCATION_PARAMETERS: Final = "llm.invocation_parameters"
OPENINFERENCE_INPUT: Final = "llm.input_messages."  # llm.input_messages.<i>.message.role
OPENINFERENCE_OUTPUT: Final = "llm.output_messages."

# --- Field → names, first present wins -------------------------------------------------------
OPERATION: Final = (semconv.GEN_AI_OPERATION_NAME, LLM_REQUEST_TYPE)
PROVIDER: Final = (semconv.GEN_AI_PROVIDER_NAME, GEN_AI_SYSTEM, LLM_PROVIDER, LLM_SYSTEM)
REQUEST_MODEL: Final = (semconv.GEN_AI_REQUEST_MODEL,)
# OpenInference's `llm.model_name` is the model that answered (the dated snapshot, e.g.
# gpt-4o-mini-2024-07-18); the requested one is in `llm.invocation_parameters` (`invocation_model`),
# and `llm.model_name` stands in for it only when the parameters do not name one.
RESPONSE_MODEL: Final = (semconv.GEN_AI_RESPONSE_MODEL, LLM_MODEL_NAME)
INPUT_TOKENS: Final = (
    semconv.GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_PROMPT_TOKENS,
    LLM_USAGE_PROMPT_TOKENS,
    LLM_TOKEN_COUNT_PROMPT,
)
OUTPUT_TOKENS: Final = (
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_COMPLETION_TOKENS,
    LLM_USAGE_COMPLETION_TOKENS,
    LLM_TOKEN_COUNT_COMPLETION,
)
# Any of these makes a span a GenAI span (a model call).
MARKERS: Final = frozenset(
    {
        semconv.GEN_AI_OPERATION_NAME,
        semconv.GEN_AI_REQUEST_MODEL,
        semconv.GEN_AI_PROVIDER_NAME,
        GEN_AI_SYSTEM,
        LLM_MODEL_NAME,
        LLM_REQUEST_TYPE,
    }
)
# Names whose values become columns (or content), so they are not copied into `attributes`.
MAPPED: Final = frozenset(
    {
        *OPERATION, *PROVIDER, *REQUEST_MODEL, *RESPONSE_MODEL, *INPUT_TOKENS, *OUTPUT_TOKENS,
        semconv.GEN_AI_RESPONSE_FINISH_REASONS, semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES, GEN_AI_SYSTEM_INSTRUCTIONS, OPENINFERENCE_SPAN_KIND,
        semconv.PROMPT_NAME, semconv.PROMPT_VERSION, semconv.PROMPT_LABEL,
        semconv.PROMPT_CONTENT_HASH, semconv.RUN_ID, semconv.COST_USD, semconv.SAFETY_FLAGS,
        semconv.ERROR_TYPE,
    }
)  # fmt: skip
CONTENT_PREFIXES: Final = (
    OPENLLMETRY_PROMPT,
    OPENLLMETRY_COMPLETION,
    OPENINFERENCE_INPUT,
    OPENINFERENCE_OUTPUT,
)
_OPENINFERENCE_FIELDS: Final = {"message.role": "role", "message.content": "content"}
_OPENLLMETRY_FIELDS: Final = {"role": "role", "content": "content", "finish_reason": "finish"}
_FIELDS: Final[Mapping[str, Mapping[str, str]]] = {
    OPENLLMETRY_PROMPT: _OPENLLMETRY_FIELDS,
    OPENLLMETRY_COMPLETION: _OPENLLMETRY_FIELDS,
    OPENINFERENCE_INPUT: _OPENINFERENCE_FIELDS,
    OPENINFERENCE_OUTPUT: _OPENINFERENCE_FIELDS,
}

Message = dict[str, str]


def first(attributes: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    """Return the value of the first of `names` present (None if none is)."""
    for name in names:
        value = attributes.get(name)
        if value is not None:
            return value
    return None


def is_genai(attributes: Mapping[str, Any]) -> bool:
    """Return whether a span is a model call in any of the dialects understood."""
    kind = attributes.get(OPENINFERENCE_SPAN_KIND)
    if kind is not None:  # OpenInference names every span's kind: only LLM spans are calls
        return str(kind).upper() == OPENINFERENCE_LLM
    if attributes.get(semconv.GEN_AI_OPERATION_NAME) in OPERATIONS_NOT_CALLS:
        return False  # agent and tool spans: their model calls are child spans
    return not MARKERS.isdisjoint(attributes)


def operation(attributes: Mapping[str, Any]) -> str | None:
    """Return the GenAI operation name (OpenLLMetry's request types mapped to it)."""
    value = attributes.get(semconv.GEN_AI_OPERATION_NAME)
    if value is not None:
        return str(value)
    request_type = attributes.get(LLM_REQUEST_TYPE)
    if request_type is not None:
        return REQUEST_TYPES.get(str(request_type), str(request_type))
    if OPENINFERENCE_SPAN_KIND in attributes:
        return semconv.OPERATION_CHAT
    return None


def invocation_model(attributes: Mapping[str, Any]) -> str | None:
    """Return the `model` of OpenInference's `llm.invocation_parameters` JSON, if any."""
    raw = attributes.get(LLM_INVOCATION_PARAMETERS)
    if not isinstance(raw, str) or '"model"' not in raw:
        return None
    try:
        params = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    model = params.get("model") if isinstance(params, dict) else None
    return model if isinstance(model, str) and model else None


def _text(value: Any) -> str:
    """Return the text of a content value: a string, or the text parts of a parts list."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = [
            part.get("content")
            for part in value
            if isinstance(part, dict) and part.get("type", "text") == "text"
        ]
        return "\n".join(text for text in texts if isinstance(text, str))
    return "" if value is None else json.dumps(value, default=str)


def _message(role: Any, content: Any) -> Message:
    return {"role": role if isinstance(role, str) and role else "user", "content": _text(content)}


def _json_list(value: Any) -> list[Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return None
    return value if isinstance(value, list) else None


def _semconv_messages(value: Any) -> list[Message] | None:
    listed = _json_list(value)
    if listed is None:
        return None
    return [
        _message(m.get("role"), m["parts"] if "parts" in m else m.get("content"))
        for m in listed
        if isinstance(m, dict)
    ]


Flattened = dict[str, dict[int, dict[str, Any]]]  # prefix → index → field → value


def flattened(attributes: Mapping[str, Any]) -> Flattened:
    """Collect the indexed `<prefix><i>.<field>` content attributes, in one pass."""
    found: Flattened = {}
    for key, value in attributes.items():
        if not key.startswith(CONTENT_PREFIXES):
            continue
        prefix = next(p for p in CONTENT_PREFIXES if key.startswith(p))
        index, _, field = key[len(prefix) :].partition(".")
        name = _FIELDS[prefix].get(field)
        if index.isdigit() and name is not None:
            found.setdefault(prefix, {}).setdefault(int(index), {})[name] = value
    return found


def _items(flat: Flattened, prefix: str) -> list[dict[str, Any]]:
    by_index = flat.get(prefix, {})
    return [by_index[i] for i in sorted(by_index)]


def input_messages(attributes: Mapping[str, Any], flat: Flattened) -> list[Message] | None:
    """Return the input messages as [{role, content}], or None when the span has no content."""
    messages = _semconv_messages(attributes.get(semconv.GEN_AI_INPUT_MESSAGES))
    if messages is not None:
        system = attributes.get(GEN_AI_SYSTEM_INSTRUCTIONS)
        if system is not None:
            messages.insert(0, _message("system", _json_list(system) or system))
        return messages
    for prefix in (OPENINFERENCE_INPUT, OPENLLMETRY_PROMPT):
        items = _items(flat, prefix)
        if items:
            return [_message(item.get("role"), item.get("content")) for item in items]
    return None


def output_text(attributes: Mapping[str, Any], flat: Flattened) -> str | None:
    """Return the text of the first output message, or None when the span has no content."""
    messages = _semconv_messages(attributes.get(semconv.GEN_AI_OUTPUT_MESSAGES))
    if messages is not None:
        return messages[0]["content"] if messages else None
    for prefix in (OPENINFERENCE_OUTPUT, OPENLLMETRY_COMPLETION):
        items = _items(flat, prefix)
        if items:
            return _text(items[0].get("content"))
    return None


def finish_reasons(attributes: Mapping[str, Any], flat: Flattened) -> list[str]:
    """Return the finish reasons (OpenLLMetry's per-completion ones if the list is absent)."""
    value = attributes.get(semconv.GEN_AI_RESPONSE_FINISH_REASONS)
    if value is None:
        items = _items(flat, OPENLLMETRY_COMPLETION)
        value = [item["finish"] for item in items if "finish" in item]
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in value] if isinstance(value, list) else []
