"""The process bootstrap: what a promptlane process sets once, for everything in it.

Environment defaults that keep model and scorer libraries off the network, the warnings
filter for litellm's cancelled calls, and litellm's readiness: imported lazily (it takes
seconds), off the event loop, once, and then frozen out of the collector's sight. The CLI
(`api.cli.main`) and the app factory (`create_app`) call `bootstrap()`; tests and bench
scripts that build things directly call it too. The domain packages (prompts, evals,
tracing) read no environment and set no process state; a test holds them to it.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import warnings
from collections.abc import Mapping
from typing import Any, Final

ENV_DEFAULTS: Final[Mapping[str, str]] = {
    # litellm fetches its price map from GitHub while importing unless told to use its copy.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    # ragas sends usage analytics unless told not to.
    "RAGAS_DO_NOT_TRACK": "true",
    # Hugging Face hub lookups (ragas and its tokenizers) would go to the network.
    "HF_HUB_OFFLINE": "1",
}

# litellm's `acompletion` builds the provider's coroutine on an executor thread; a call cancelled
# while that thread runs (a crashed or cancelled run, a client gone) drops it unawaited, and
# Python then warns. Nothing leaks but the warning, which would read like a bug of ours.
CANCELLED_CALL_WARNING: Final = r"coroutine '.*\.acompletion' was never awaited"

_lock = threading.Lock()
_bootstrapped = False
_litellm: Any = None


def bootstrap() -> None:
    """Set the process-wide defaults (idempotent; cheap: it imports nothing heavy)."""
    global _bootstrapped
    with _lock:
        if _bootstrapped:
            return
        for name, value in ENV_DEFAULTS.items():
            os.environ.setdefault(name, value)
        warnings.filterwarnings("ignore", message=CANCELLED_CALL_WARNING, category=RuntimeWarning)
        _bootstrapped = True


def load_litellm() -> Any:
    """Import litellm once (blocking: seconds), ready for calls, and freeze what it left."""
    global _litellm
    bootstrap()  # the environment defaults must be in place before litellm imports
    with _lock:
        if _litellm is None:
            from evals.llm.client import ensure_litellm

            litellm = ensure_litellm()
            # The import leaves ~260k objects that live as long as the process (2/3 of a
            # server's); frozen, full collections stop walking them, which otherwise costs
            # ~25 ms per 512-span ingest request (bench/ingest.py).
            # See https://docs.python.org/3/library/gc.html#gc.freeze
            gc.freeze()
            _litellm = litellm
    return _litellm


async def litellm_ready() -> None:
    """Make litellm ready for calls without blocking the event loop (instant once it is)."""
    if _litellm is None:
        import asyncio  # here, not at the top: the CLI imports this module and no asyncio

        await asyncio.to_thread(load_litellm)


async def warm_model_layer(log: logging.Logger) -> None:
    """Import litellm in the background after a start, so no request or first run pays for it.

    Runs as its own task, off every request path; a request that needs litellm sooner awaits
    the same import (`litellm_ready`), never a second one.
    """
    import time

    if _litellm is not None:
        return
    log.info("warming the model layer (importing litellm) in the background")
    started = time.monotonic()
    try:
        await litellm_ready()
    except Exception:  # a broken install must not take the server down; calls will say why
        log.exception("warming the model layer failed; model calls will retry the import")
        return
    log.info("model layer ready in %.1f s", time.monotonic() - started)
