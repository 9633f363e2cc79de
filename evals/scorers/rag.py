"""RAG scorers through ragas: faithfulness, response relevancy, context precision and recall.

ragas (0.4, `ragas.metrics.collections`) is imported lazily, in a worker thread, the first time
one of these scorers scores: the import takes seconds and most suites never need it. Its LLM and
embeddings talk to an OpenAI-compatible endpoint through one `AsyncOpenAI` client: the endpoint
and key of a connection (provider `openai`) that admins manage, named by `params.connection`
(default: the connection called `openai`). The client's HTTP client notes every response's
token usage for the item being scored: a score's `cost_usd` is what its ragas calls cost,
priced from litellm's bundled price map.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

from pydantic import Field, field_validator

from evals.connections.resolver import ConnectionSource, ResolvedConnection
from evals.errors import ScorerError
from evals.llm import http as openai_http
from evals.llm.failures import redact
from evals.scorers.base import (
    GRADED_THRESHOLD,
    BaseScorer,
    ContextParamError,
    Score,
    ScorerParams,
    as_text,
    clip,
)
from evals.scorers.context import ScorerContext
from prompts.config import CONNECTION_RE
from tracing import pricing

if TYPE_CHECKING:
    import httpx

DEFAULT_EMBEDDING_MODEL: Final = "text-embedding-3-small"
# ragas speaks the OpenAI API: like `openai/<model>`, a model without a connection uses this one.
DEFAULT_CONNECTION: Final = "openai"
_RAGAS_PROVIDER: Final = "openai"
# (model, input tokens, output tokens) of each ragas call made for the item being scored.
Usage = tuple[str, int, int]
_USAGE: ContextVar[list[Usage] | None] = ContextVar("promptlane_ragas_usage", default=None)


class RagParams(ScorerParams):
    """The model ragas calls and the connection it goes through (defaults: the run's settings)."""

    model: str | None = Field(
        default=None, min_length=1, max_length=200, description="Model name at the endpoint"
    )
    connection: str | None = Field(
        default=None,
        max_length=64,
        description=f"An OpenAI-compatible connection (default: {DEFAULT_CONNECTION!r})",
    )
    timeout: float = Field(default=60.0, gt=0, le=3_600)

    @field_validator("connection")
    @classmethod
    def _check_connection(cls, value: str | None) -> str | None:
        if value is not None and not CONNECTION_RE.fullmatch(value):
            raise ValueError("a connection name: up to 64 lowercase letters, digits, '.', '_', '-'")
        return value


class ResponseRelevancyParams(RagParams):
    """Response relevancy also embeds text, and asks for `strictness` questions."""

    embedding_model: str | None = Field(default=None, min_length=1)
    strictness: int = Field(default=3, ge=1, le=10)


@dataclass(frozen=True)
class _Ragas:
    """The ragas and openai names these scorers use, imported once."""

    llm_factory: Any
    embeddings: Any
    metrics: Any
    client: Any
    http_client: Any


@functools.cache
def load_ragas() -> _Ragas:
    """Import ragas and the openai client (slow: seconds), once per process.

    ragas sends analytics, Hugging Face lookups go to the network and litellm (which ragas
    imports) fetches its price map unless told otherwise: the process bootstrap
    (api/bootstrap.py) tells them, before this runs.
    """
    from openai import AsyncOpenAI, DefaultAsyncHttpxClient
    from ragas.embeddings.openai_provider import OpenAIEmbeddings
    from ragas.llms import llm_factory
    from ragas.metrics import collections

    return _Ragas(llm_factory, OpenAIEmbeddings, collections, AsyncOpenAI, DefaultAsyncHttpxClient)


async def note_usage(response: httpx.Response) -> None:
    """Note a call's model and tokens for the item being scored (an httpx response hook)."""
    usages = _USAGE.get()
    if usages is None or response.status_code != 200:
        return
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    await response.aread()
    try:
        body = response.json()
    except ValueError:
        return
    usage = body.get("usage") if isinstance(body, dict) else None
    if isinstance(usage, dict) and isinstance(body.get("model"), str):
        tokens = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        usages.append((body["model"], *tokens))


def usage_cost(usages: Sequence[Usage]) -> float | None:
    """Return what the calls cost in USD (blocking: may load the price map); None if unpriced."""
    costs = [
        openai_http.cost(model, tokens_in, tokens_out, loader=pricing.bundled_costs)
        for model, tokens_in, tokens_out in usages
    ]
    known = [c for c in costs if c is not None]
    return sum(known) if known else None


async def ragas_connection(source: ConnectionSource | None, name: str) -> ResolvedConnection:
    """Return the OpenAI-compatible connection a ragas scorer calls through."""
    hint = f"an admin creates it with `promptlane connections create {name} --provider openai`"
    found = None if source is None else await source.get(name)
    if found is None:
        raise ScorerError(f"ragas needs a connection: no connection named {name!r} ({hint})")
    if found.problem is not None:
        raise ScorerError(f"connection {name!r}: {found.problem}")
    if found.provider != _RAGAS_PROVIDER:
        raise ScorerError(
            f"ragas calls an OpenAI-compatible endpoint: connection {name!r} is for "
            f"{found.provider}; name one with provider openai (params.connection)"
        )
    return found


def user_input(input: Mapping[str, Any]) -> str:
    """Return the item's input as the question ragas expects."""
    for key in ("question", "query"):
        value = input.get(key)
        if isinstance(value, str) and value:
            return value
    return json.dumps(dict(input), ensure_ascii=False, sort_keys=True)


class RagScorer(BaseScorer[RagParams]):
    """A ragas metric from `ragas.metrics.collections`, scored one item at a time."""

    metric_class: ClassVar[str]
    arguments: ClassVar[tuple[str, ...]]
    default_threshold = GRADED_THRESHOLD

    def __init__(
        self, name: str, params: RagParams, connections: ConnectionSource | None = None
    ) -> None:
        """Keep the params and where to find the connection; the metric is built on first use."""
        super().__init__(name, params)
        self._connections = connections
        self._metric: Any = None
        self._secret: str | None = None
        self._lock = asyncio.Lock()

    def _llm_and_client(self, ragas: _Ragas, connection: ResolvedConnection) -> tuple[Any, Any]:
        p = self.params
        # ragas calls bypass evals.llm.client's retry loop, so the openai client's own (2 retries on
        # 429/5xx/connection errors, with backoff) is what absorbs transient failures here.
        client = ragas.client(
            base_url=connection.api_base,
            # Always set: the openai client would otherwise read OPENAI_API_KEY itself.
            api_key=connection.api_key or openai_http.KEYLESS,
            timeout=p.timeout,
            max_retries=2,
            http_client=ragas.http_client(event_hooks={"response": [note_usage]}),
        )
        return ragas.llm_factory(p.model, client=client), client

    def _build(self, ragas: _Ragas, connection: ResolvedConnection) -> Any:
        llm, _client = self._llm_and_client(ragas, connection)
        return getattr(ragas.metrics, self.metric_class)(llm=llm)

    async def _get_metric(self) -> Any:
        async with self._lock:
            if self._metric is None:
                name = self.params.connection or DEFAULT_CONNECTION
                connection = await ragas_connection(self._connections, name)
                ragas = await asyncio.to_thread(load_ragas)
                self._metric = self._build(ragas, connection)
                self._secret = connection.api_key
        return self._metric

    def _kwargs(
        self, output: str, expected: Any, input: Mapping[str, Any], contexts: Sequence[str]
    ) -> dict[str, Any]:
        if "retrieved_contexts" in self.arguments and not contexts:
            raise ScorerError(f"{self.kind} needs the item's contexts, and this item has none")
        if "reference" in self.arguments and expected is None:
            raise ScorerError(f"{self.kind} needs the item's expected answer as the reference")
        available = {
            "user_input": user_input(input),
            "response": output,
            "retrieved_contexts": list(contexts),
            "reference": None if expected is None else as_text(expected),
        }
        return {name: available[name] for name in self.arguments}

    async def score(
        self,
        *,
        output: str,
        expected: Any,
        input: Mapping[str, Any],
        contexts: Sequence[str],
        metadata: Mapping[str, Any],
    ) -> Score:
        """Score one item with the ragas metric."""
        kwargs = self._kwargs(output, expected, input, contexts)
        metric = await self._get_metric()
        usages: list[Usage] = []
        token = _USAGE.set(usages)
        try:
            result = await metric.ascore(**kwargs)
        except Exception as exc:  # ragas, instructor and openai raise many unrelated types
            text = clip(redact(str(exc), self._secret), 300)
            raise ScorerError(f"{self.kind}: {type(exc).__name__}: {text}") from exc
        finally:
            _USAGE.reset(token)
        value = float(result.value)
        if math.isnan(value):
            raise ScorerError(f"{self.kind}: ragas produced no score (the model found no claims)")
        reason = getattr(result, "reason", None)
        cost = await asyncio.to_thread(usage_cost, usages) if usages else None
        return Score(
            min(1.0, max(0.0, value)), reason if isinstance(reason, str) else None, cost_usd=cost
        )


class Faithfulness(RagScorer):
    """Share of the response's claims that the retrieved contexts support."""

    kind = "faithfulness"
    description = "ragas: share of the output's claims supported by the contexts"
    params_model = RagParams
    metric_class = "Faithfulness"
    arguments = ("user_input", "response", "retrieved_contexts")


class ResponseRelevancy(RagScorer):
    """How well the response answers the question (questions regenerated from it, embedded)."""

    kind = "response_relevancy"
    description = "ragas: how directly the output answers the input question (LLM+embeddings)"
    params_model = ResponseRelevancyParams
    metric_class = "AnswerRelevancy"
    arguments = ("user_input", "response")

    def _build(self, ragas: _Ragas, connection: ResolvedConnection) -> Any:
        assert isinstance(self.params, ResponseRelevancyParams)
        llm, client = self._llm_and_client(ragas, connection)
        model = self.params.embedding_model or DEFAULT_EMBEDDING_MODEL
        embeddings = ragas.embeddings(client=client, model=model)
        return ragas.metrics.AnswerRelevancy(
            llm=llm, embeddings=embeddings, strictness=self.params.strictness
        )


class ContextPrecision(RagScorer):
    """Whether the contexts useful for the reference answer are ranked first."""

    kind = "context_precision"
    description = "ragas: useful contexts ranked first (needs expected as the reference)"
    params_model = RagParams
    metric_class = "ContextPrecision"
    arguments = ("user_input", "reference", "retrieved_contexts")


class ContextRecall(RagScorer):
    """Share of the reference answer's claims the contexts support."""

    kind = "context_recall"
    description = "ragas: share of the reference's claims found in the contexts"
    params_model = RagParams
    metric_class = "ContextRecall"
    arguments = ("user_input", "retrieved_contexts", "reference")


RAG: Final[tuple[type[RagScorer], ...]] = (
    Faithfulness,
    ResponseRelevancy,
    ContextPrecision,
    ContextRecall,
)


def build_rag(cls: type[RagScorer], name: str, params: RagParams, ctx: ScorerContext) -> RagScorer:
    """Fill unset params from the run's ragas settings, then build the scorer."""
    defaults = ctx.ragas
    update: dict[str, Any] = {
        "model": params.model or defaults.model,
        "connection": params.connection or defaults.connection,
    }
    if isinstance(params, ResponseRelevancyParams):
        update["embedding_model"] = params.embedding_model or defaults.embedding_model
    if not update["model"]:
        raise ContextParamError("model", f"{cls.kind} needs params.model (the model to call)")
    return cls(name, params.model_copy(update=update), ctx.connections)
