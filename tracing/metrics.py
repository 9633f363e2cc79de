"""Prometheus instruments: GenAI client metrics and promptlane's cost, scores, flags, fetches.

The instruments live in a registry of their own (not prometheus_client's global one), so two
apps in one process never share series. Every label whose values come from users (prompt,
version, label, model, metric, flag) is bounded: past `max_label_values` distinct values a
label reports "other", so a scrape stays small whatever the data.
"""

from __future__ import annotations

from collections import Counter as CounterOf
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from tracing import semconv

OTHER: Final = "other"
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

# Bucket boundaries the GenAI conventions advise for these two histograms.
TOKEN_BUCKETS: Final = tuple(float(4**i) for i in range(14))
DURATION_BUCKETS: Final = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24,
                           20.48, 40.96, 81.92)  # fmt: skip
SCORE_BUCKETS: Final = tuple(i / 10 for i in range(11))
INGEST_KINDS: Final = ("genai", "duplicate", "other")

_PROMPT_LABELS: Final = ("prompt", "version", "label")
_MODEL: Final = "gen_ai_request_model"
_MAX_SERIES: Final = 10_000  # cached series handles (label values are bounded too)

# A fetch is counted under its resolve cache key: (prompt, label or None, version or None).
FetchKey = tuple[str, str | None, int | None]


class _Bounded:
    """Caps the distinct values a label may take; later newcomers become "other"."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: dict[str, set[str]] = {}

    def __call__(self, label: str, value: object) -> str:
        text = "" if value is None else str(value)
        seen = self._seen.setdefault(label, set())
        if text in seen:
            return text
        if len(seen) >= self.limit:
            return OTHER
        seen.add(text)
        return text


class FetchCounts(Collector):
    """Prompt fetch counters kept as plain dicts: the resolve fast path adds to them inline.

    A dict increment costs a fraction of a labelled prometheus counter's; the labels are
    built only when Prometheus scrapes.
    """

    def __init__(self, bound: _Bounded) -> None:
        self.hits: dict[FetchKey, int] = {}
        self.misses: dict[FetchKey, int] = {}
        self._bound = bound

    def collect(self) -> Iterator[CounterMetricFamily]:
        """Yield `promptlane_prompt_fetches_total` by prompt, label, version and cache."""
        family = CounterMetricFamily(
            "promptlane_prompt_fetches",
            "Prompt resolves served, by prompt, label or version, and cache hit or miss.",
            labels=[*_PROMPT_LABELS, "cache"],
        )
        totals: dict[tuple[str, str, str, str], int] = {}
        for cache, counts in (("hit", self.hits), ("miss", self.misses)):
            for (name, label, version), count in list(counts.items()):
                key = (
                    self._bound("prompt", name),
                    self._bound("version", version),
                    self._bound("label", label),
                    cache,
                )
                totals[key] = totals.get(key, 0) + count
        for labels, count in totals.items():
            family.add_metric(list(labels), count)
        yield family


@dataclass
class Calls:
    """Model calls that share their labels, gathered to be recorded at once."""

    durations_s: list[float] = field(default_factory=list)
    input_tokens: list[float] = field(default_factory=list)
    output_tokens: list[float] = field(default_factory=list)
    cost_usd: float = 0.0
    scores: dict[str, list[float]] = field(default_factory=dict)  # [0, 1] scores only
    flags: CounterOf[str] = field(default_factory=CounterOf)


class Metrics:
    """The service's instruments, and the Prometheus text of their current values."""

    def __init__(self, *, max_label_values: int = 1000) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.bound = _Bounded(max_label_values)
        reg = self.registry
        self.token_usage = Histogram(
            "gen_ai_client_token_usage",
            "Tokens used per GenAI operation, by token type (input/output).",
            ["gen_ai_token_type", "gen_ai_operation_name", _MODEL, *_PROMPT_LABELS],
            buckets=TOKEN_BUCKETS,
            registry=reg,
        )
        self.operation_duration = Histogram(
            "gen_ai_client_operation_duration",
            "Duration of GenAI operations, retries included.",
            ["gen_ai_operation_name", _MODEL, "error_type", *_PROMPT_LABELS],
            unit="seconds",
            buckets=DURATION_BUCKETS,
            registry=reg,
        )
        self.cost = Counter(
            "promptlane_cost_usd",
            "Model spend in US dollars, by model and prompt version.",
            [_MODEL, *_PROMPT_LABELS],
            registry=reg,
        )
        self.scores = Histogram(
            "promptlane_eval_score",
            "Eval scores in [0, 1], by metric, model and prompt version.",
            ["metric", _MODEL, *_PROMPT_LABELS],
            buckets=SCORE_BUCKETS,
            registry=reg,
        )
        self.safety_flags = Counter(
            "promptlane_safety_flags",
            "Outputs a safety scorer flagged, by flag, model and prompt version.",
            ["flag", _MODEL, *_PROMPT_LABELS],
            registry=reg,
        )
        self.dropped_spans = Counter(
            "promptlane_tracing_dropped_spans",
            "Spans dropped because the export queue was full.",
            registry=reg,
        )
        self.online_eval_skipped = Counter(
            "promptlane_online_eval_skipped",
            "Sampled generations left unscored because the online evaluation queue was full.",
            registry=reg,
        )
        self.ingested_spans = Counter(
            "promptlane_ingested_spans",
            "Spans received over OTLP, by kind: genai (model calls stored as generations), "
            "duplicate (already stored), other (stored as spans of their trace only).",
            ["kind"],
            registry=reg,
        )
        for kind in INGEST_KINDS:
            self.ingested_spans.labels(kind)  # every series exists from the start, at 0
        self.generations_dropped = Counter(
            "promptlane_generations_dropped",
            "Generations not stored, by source and reason (the database refused the row, "
            "or the gateway's writer gave up on a batch or had too many waiting).",
            ["source", "reason"],
            registry=reg,
        )
        self.webhook_endpoints_paused = Gauge(
            "promptlane_webhook_endpoints_paused",
            "Webhook endpoints paused (a 410, a day of failures, or by hand): none is delivered.",
            registry=reg,
        )
        self.fetches = FetchCounts(self.bound)
        reg.register(self.fetches)
        # Series looked up by label values: prometheus_client's `labels()` validates and
        # stringifies them and takes a lock (~5 µs), several times per eval item or call.
        self._series: dict[tuple[int, tuple[str, ...]], Any] = {}

    def _child(self, metric: Histogram | Counter, *values: str) -> Any:
        """Return `metric.labels(*values)`, cached (no series is ever removed)."""
        key = (id(metric), values)
        child = self._series.get(key)
        if child is None:
            if len(self._series) >= _MAX_SERIES:
                self._series.clear()
            child = self._series[key] = metric.labels(*values)
        return child

    def prompt_labels(
        self, model: str, name: str | None, version: int | None, label: str | None
    ) -> tuple[str, str, str, str]:
        """Return bounded (model, prompt, version, label) label values."""
        b = self.bound
        return b(_MODEL, model), b("prompt", name), b("version", version), b("label", label)

    def record_call(
        self,
        labels: tuple[str, str, str, str],
        *,
        duration_s: float | None,
        input_tokens: int | None,
        output_tokens: int | None,
        cost_usd: float | None,
        error_type: str | None,
        operation: str | None = None,
    ) -> None:
        """Record one model call: duration (if known), tokens by type, and cost."""
        model, *prompt = labels
        b = self.bound  # operation and error type may come from ingested spans: bounded too
        op = b("gen_ai_operation_name", operation) if operation else semconv.OPERATION_CHAT
        if duration_s is not None:
            error = b("error_type", error_type) if error_type else ""
            self._child(self.operation_duration, op, model, error, *prompt).observe(duration_s)
        tokens = self.token_usage
        if input_tokens is not None:
            self._child(tokens, semconv.TOKEN_INPUT, op, model, *prompt).observe(input_tokens)
        if output_tokens is not None:
            self._child(tokens, semconv.TOKEN_OUTPUT, op, model, *prompt).observe(output_tokens)
        if cost_usd:
            self._child(self.cost, model, *prompt).inc(cost_usd)

    def record_score(self, labels: tuple[str, str, str, str], metric: str, value: float) -> None:
        """Record one eval score of `metric`."""
        model, *prompt = labels
        self._child(self.scores, self.bound("metric", metric), model, *prompt).observe(value)

    def record_flag(self, labels: tuple[str, str, str, str], flag: str) -> None:
        """Count one safety flag raised on an output."""
        model, *prompt = labels
        self._child(self.safety_flags, self.bound("flag", flag), model, *prompt).inc()

    def record_calls(
        self,
        labels: tuple[str, str, str, str],
        calls: Calls,
        *,
        operation: str | None,
        error_type: str | None,
    ) -> None:
        """Record model calls that share their labels, looking each series up once (ingest)."""
        model, *prompt = labels
        b = self.bound
        op = b("gen_ai_operation_name", operation) if operation else semconv.OPERATION_CHAT
        error = b("error_type", error_type) if error_type else ""
        tokens, scores = self.token_usage, self.scores
        histograms: list[tuple[Histogram, tuple[str, ...], Sequence[float]]] = [
            (self.operation_duration, (op, model, error, *prompt), calls.durations_s),
            (tokens, (semconv.TOKEN_INPUT, op, model, *prompt), calls.input_tokens),
            (tokens, (semconv.TOKEN_OUTPUT, op, model, *prompt), calls.output_tokens),
        ]
        histograms.extend(
            (scores, (b("metric", metric), model, *prompt), values)
            for metric, values in calls.scores.items()
        )
        for histogram, label_values, values in histograms:
            if values:
                child = histogram.labels(*label_values)
                for value in values:
                    child.observe(value)
        if calls.cost_usd:
            self.cost.labels(model, *prompt).inc(calls.cost_usd)
        for flag, count in calls.flags.items():
            self.safety_flags.labels(b("flag", flag), model, *prompt).inc(count)

    def record_ingest(self, *, genai: int, duplicate: int, other: int) -> None:
        """Count the spans of one OTLP export request by kind."""
        for kind, count in zip(INGEST_KINDS, (genai, duplicate, other), strict=True):
            if count:
                self.ingested_spans.labels(kind).inc(count)

    def record_dropped(self, *, source: str, reason: str, count: int = 1) -> None:
        """Count generations that were not stored."""
        b = self.bound
        self.generations_dropped.labels(b("source", source), b("reason", reason)).inc(count)

    def exposition(self) -> bytes:
        """Return every instrument in the Prometheus text format."""
        return generate_latest(self.registry)
