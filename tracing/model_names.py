"""Model names normalised for analytics: one name per model, however a call spelled it.

The same model reaches promptlane under several names: `openai/gpt-4o-mini` (a litellm model
string, as the gateway streams it), `gpt-4o-mini-2024-07-18` (the dated snapshot a provider
answers with) and `gpt-4o-mini` (what an application asked for). Analytics group by
`normalise_model`, which

1. strips leading provider prefixes litellm knows (`openai/`, `openrouter/anthropic/` …);
   an unknown prefix (`meta-llama/…`, a Hugging Face organisation) is part of the name;
2. resolves a dated snapshot (`-2024-07-18`, `-20241022`, OpenAI's `-0613`) to its base name
   when litellm's bundled model map knows the base (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`);
3. for a name the map does not know at all, drops a trailing full date (`-YYYY-MM-DD` or
   `-YYYYMMDD`, a real calendar date): a snapshot of a model the map does not list yet.

A dated name the map knows while it does not know its base stays as it is: that snapshot is
the model's only name. The map is the one litellm ships (read without importing litellm,
`tracing.pricing.bundled_costs`: offline, ~25 ms once); results are cached.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from tracing.pricing import LITELLM_PROVIDERS, bundled_costs

MAX_CHARS: Final = 200  # the length of generations.model
_FULL_DATE: Final = re.compile(r"(?P<base>.+?)-(?P<date>\d{4}-\d{2}-\d{2}|\d{8})\Z")
_SHORT_DATE: Final = re.compile(r"(?P<base>.+?)-(?P<date>(0[1-9]|1[0-2])[0-3]\d)\Z")  # -0613
_CACHED: Final = 10_000


@functools.cache
def _model_map() -> Mapping[str, Any]:
    return bundled_costs().prices


@functools.cache
def _providers() -> frozenset[str]:
    """Return the provider prefixes litellm's model map uses, and the GenAI provider names."""
    found = {
        entry["litellm_provider"]
        for entry in _model_map().values()
        if isinstance(entry, dict) and isinstance(entry.get("litellm_provider"), str)
    }
    named = {*LITELLM_PROVIDERS, *LITELLM_PROVIDERS.values(), "openrouter", "azure", "vertex_ai"}
    return frozenset(p for p in found | named if re.fullmatch(r"[a-z0-9_.\-]+", p))


def _strip_providers(name: str) -> str:
    providers = _providers()
    while "/" in name:
        head, rest = name.split("/", 1)
        if head.lower() not in providers or not rest:
            break
        name = rest
    return name


def _is_date(text: str) -> bool:
    digits = text.replace("-", "")
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


def _undated(name: str) -> str:
    known = _model_map()
    full = _FULL_DATE.fullmatch(name)
    if full is not None and _is_date(full["date"]):
        base = full["base"]
        return base if base in known or name not in known else name
    short = _SHORT_DATE.fullmatch(name)
    if short is not None and short["base"] in known:
        return short["base"]
    return name


@functools.lru_cache(maxsize=_CACHED)
def normalise_model(raw: str | None) -> str | None:
    """Return the normalised name of a model (None for no name); see the module docstring."""
    if raw is None:
        return None
    name = raw.strip().replace("\x00", "")
    if not name:
        return None
    return _undated(_strip_providers(name))[:MAX_CHARS] or None


def row_model(row: Mapping[str, Any]) -> str | None:
    """Return the normalised model of a generation row: the answering model, else the asked."""
    return normalise_model(row.get("response_model") or row.get("request_model"))
