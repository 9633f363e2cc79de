"""litellm, imported lazily and offline, and model prices from its bundled price map.

litellm takes seconds to import and, unless told otherwise, fetches its price map from GitHub
while importing (the process bootstrap, api/bootstrap.py, tells it not to before anything
imports it): `load_litellm` is the one place that imports it (evals reuses it). Pricing an
ingested span does not need litellm itself, only its price map: `bundled_costs` reads the JSON
file litellm ships (about 25 ms, once) without importing the package, so the first OTLP request
of a fresh server is not held up by a multi-second import. Callers on the event loop go through
`PriceBook.prepare`, which does the blocking part in a thread.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

# Price per input token and per output token, in US dollars.
Price = tuple[float, float]
PriceKey = tuple[str | None, str]  # (gen_ai.provider.name, model)

_MAX_CACHED: Final = 10_000
# gen_ai.provider.name (and legacy gen_ai.system) values → litellm's provider prefix.
LITELLM_PROVIDERS: Final[Mapping[str, str]] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "aws.bedrock": "bedrock",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure.ai.inference": "azure_ai",
    "gcp.gemini": "gemini",
    "gemini": "gemini",
    "gcp.vertex_ai": "vertex_ai",
    "vertex_ai": "vertex_ai",
    "mistral_ai": "mistral",
    "cohere": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "x_ai": "xai",
    "ibm.watsonx.ai": "watsonx",
}


# One import of litellm at a time: a background warm-up (api.bootstrap) and a call that needs it
# now would otherwise import it in two threads at once, and Python's import deadlock detection
# then hands one of them a partially initialised module.
_import_lock = threading.Lock()
_litellm: Any = None


def load_litellm() -> Any:
    """Import litellm once (slow: seconds; blocking), quiet; every thread waits for the one."""
    global _litellm
    with _import_lock:
        if _litellm is None:
            import litellm

            litellm.telemetry = False
            litellm.suppress_debug_info = True
            _litellm = litellm
    return _litellm


_PRICE_MAP_FILE: Final = "model_prices_and_context_window_backup.json"


class BundledCosts:
    """litellm's `cost_per_token` for plain per-token prices, read from its bundled price map."""

    def __init__(self, prices: Mapping[str, Any]) -> None:
        self.prices = prices

    def cost_per_token(
        self, *, model: str, prompt_tokens: int, completion_tokens: int
    ) -> tuple[float, float]:
        """Return (input, output) cost in USD; raise KeyError for a model it has no price for."""
        entry = self.prices.get(model)
        if entry is None and "/" in model:  # litellm drops a provider prefix it knows
            entry = self.prices.get(model.split("/", 1)[1])
        if not isinstance(entry, dict):
            raise KeyError(model)
        per_input = entry.get("input_cost_per_token")
        per_output = entry.get("output_cost_per_token")
        if not isinstance(per_input, int | float) or not isinstance(per_output, int | float):
            raise KeyError(model)
        return per_input * prompt_tokens, per_output * completion_tokens


@functools.cache
def bundled_costs() -> BundledCosts:
    """Load the price map litellm ships, without importing litellm (blocking, ~25 ms)."""
    spec = importlib.util.find_spec("litellm")  # finds the package; does not run it
    if spec is None or not spec.submodule_search_locations:
        return BundledCosts({})
    path = Path(next(iter(spec.submodule_search_locations))) / _PRICE_MAP_FILE
    try:
        return BundledCosts(json.loads(path.read_text()))
    except (OSError, ValueError):
        return BundledCosts({})  # no price map: costs stay unknown rather than failing ingest


def _candidates(provider: str | None, model: str) -> list[str]:
    prefix = LITELLM_PROVIDERS.get(provider or "", provider)
    if "/" in model or not prefix:
        return [model]
    return [model, f"{prefix}/{model}"]


def litellm_price(provider: str | None, model: str, *, loader: Callable[[], Any]) -> Price | None:
    """Return litellm's per-token prices of a model (blocking), or None if it has none."""
    litellm = loader()
    for name in _candidates(provider, model):
        try:
            prompt, completion = litellm.cost_per_token(
                model=name, prompt_tokens=1, completion_tokens=1
            )
        except Exception:  # noqa: S112 (litellm raises a variety of errors for unmapped models)
            continue
        if math.isfinite(prompt) and math.isfinite(completion):
            return float(prompt), float(completion)
    return None


class PriceBook:
    """Per-token model prices, looked up in litellm's local price map once per model."""

    def __init__(self, loader: Callable[[], Any] = bundled_costs) -> None:
        self._loader = loader
        self._prices: dict[PriceKey, Price | None] = {}

    def _fill(self, keys: list[PriceKey]) -> None:
        if len(self._prices) + len(keys) > _MAX_CACHED:
            self._prices.clear()  # model names come from clients: keep the cache bounded
        for provider, model in keys:
            self._prices[provider, model] = litellm_price(provider, model, loader=self._loader)

    async def prepare(self, keys: Iterable[PriceKey]) -> None:
        """Look up the prices not cached yet, in a thread (litellm's import blocks)."""
        missing = list(dict.fromkeys(key for key in keys if key not in self._prices))
        if missing:
            await asyncio.to_thread(self._fill, missing)

    def cost(
        self, provider: str | None, model: str, input_tokens: int, output_tokens: int
    ) -> float | None:
        """Return the cost in USD of a call from cached prices (None: unknown or not prepared)."""
        price = self._prices.get((provider, model))
        if price is None:
            return None
        return input_tokens * price[0] + output_tokens * price[1]


# Prices do not change while a process runs: one book per process.
PRICES: Final = PriceBook()
