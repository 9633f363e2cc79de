"""A model's answer (`Completion`) and how it is read from either path's response.

litellm answers with its response objects (`from_litellm`, priced by litellm's own cost
calculation); the native path answers with the provider's OpenAI JSON, or the offline models'
answer in the same shape (`from_openai_json`, priced from litellm's price map). Both give the
same fields for the same call (tests/evals/test_native_path.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evals.llm import http as openai_http


@dataclass(frozen=True)
class Completion:
    """A model's answer with what it cost: tokens, USD, latency, attempts."""

    text: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    latency_ms: float
    finish_reason: str | None
    is_cached: bool = False
    attempts: int = 1
    raw: dict[str, Any] | None = None
    # The `chat` span that recorded the call (random ids when tracing is off); not cached.
    trace_id: str | None = None
    span_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the completion as a JSON-ready dict (for the response cache)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Completion:
        """Rebuild a completion from `to_json` output (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _cost(litellm: Any, response: Any) -> float | None:
    # litellm already ran completion_cost while building the response (None: no price);
    # pricing it twice would cost ~15% of an offline call.
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost")
    if cost is None and "response_cost" not in hidden:
        try:
            cost = litellm.completion_cost(completion_response=response)
        except Exception:  # litellm raises for models it has no price for
            return None
    return float(cost) if cost is not None else None


def from_litellm(
    litellm: Any,
    response: Any,
    *,
    model: str,
    latency_ms: float,
    attempts: int,
    ids: tuple[str, str] | None = None,
) -> Completion:
    """Return litellm's response object as a Completion."""
    choice = response.choices[0] if response.choices else None
    message = getattr(choice, "message", None)
    text = getattr(message, "content", None)
    tool_calls = getattr(message, "tool_calls", None)
    raw: dict[str, Any] = {"id": getattr(response, "id", None), "model": response.model}
    if tool_calls:
        raw["tool_calls"] = [call.model_dump() for call in tool_calls]
        # A tool call is the answer when there is no text: scorers see it as JSON.
        text = text or json.dumps(raw["tool_calls"], sort_keys=True)
    usage = getattr(response, "usage", None)
    return Completion(
        text=text or "",
        model=model,
        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=_cost(litellm, response),
        latency_ms=latency_ms,
        finish_reason=getattr(choice, "finish_reason", None),
        attempts=attempts,
        raw=raw,
        trace_id=ids[0] if ids else None,
        span_id=ids[1] if ids else None,
    )


def from_openai_json(
    loader: Callable[[], Any],
    body: Any,
    *,
    model: str,
    latency_ms: float,
    attempts: int,
    ids: tuple[str, str],
) -> Completion:
    """Return an OpenAI JSON answer as a Completion, priced from litellm's map (`loader`)."""
    fields = openai_http.answer_fields(body)
    cost = openai_http.cost(model, fields["input_tokens"], fields["output_tokens"], loader=loader)
    return Completion(
        model=model,
        cost_usd=cost,
        latency_ms=latency_ms,
        attempts=attempts,
        trace_id=ids[0],
        span_id=ids[1],
        **fields,
    )
