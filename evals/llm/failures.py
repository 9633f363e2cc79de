"""How a failed model call is classified: retryable or not, timeout or not, and its reason.

`classify` reads the openai SDK's errors (litellm's subclass them, and evals/llm/http.py
raises them) and their status and `Retry-After`; `failure_error` turns the last one into the
ModelCallError (or ModelTimeoutError) that callers see, keeping the provider's error as its
cause so its status can be read back (`provider_status`). `is_configuration_error` says
whether a failure is one every call would hit alike (no connection or key, a key or model the
provider refuses): a run stops at the first one instead of recording it as every item's error.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any, Final

from evals.errors import ModelCallError, ModelConfigurationError, ModelTimeoutError

_REASON_MAX: Final = 300
_REDACTED: Final = "[redacted]"
# Shorter "secrets" (test placeholders) would turn unrelated words into [redacted].
_MIN_REDACTED: Final = 8
# The provider refused the key (401), the key's permission (403) or the model (404): the next
# call, the next item and a retry get the same answer until the configuration changes.
CONFIGURATION_STATUSES: Final = frozenset({401, 403, 404})


@dataclass(frozen=True)
class Failure:
    """What kind of failure a call had and whether the retry policy may try again."""

    kind: str
    retryable: bool
    is_timeout: bool = False
    retry_after: float | None = None


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def classify(exc: BaseException) -> Failure:
    """Say what kind of failure `exc` is and whether the retry policy may try again."""
    import openai

    status = _status(exc)
    if isinstance(exc, TimeoutError | openai.APITimeoutError) or status == 408:
        return Failure("timeout", retryable=True, is_timeout=True)
    if status == 429:
        return Failure("rate limited (429)", retryable=True, retry_after=_retry_after(exc))
    if status is not None and status >= 500:
        name = type(exc).__name__
        return Failure(f"{name} ({status})", retryable=True, retry_after=_retry_after(exc))
    if isinstance(exc, openai.APIConnectionError):
        return Failure("connection error", retryable=True)
    name = type(exc).__name__
    return Failure(f"{name} ({status})" if status else name, retryable=False)


def _retry_after(exc: BaseException) -> float | None:
    """Read `Retry-After` (seconds or an HTTP date) or `retry-after-ms` off the error."""
    for headers in (
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
        getattr(exc, "headers", None),
    ):
        if not headers:
            continue
        value = headers.get("retry-after-ms")
        if value is not None:
            return _seconds(value, scale=0.001)
        value = headers.get("retry-after")
        if value is not None:
            return _seconds(value)
    return None


def _seconds(value: Any, *, scale: float = 1.0) -> float | None:
    try:
        return max(0.0, float(value) * scale)
    except (TypeError, ValueError):
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason(model: str, failure: Failure, attempts: int, exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    tries = f"{attempts} attempt" + ("" if attempts == 1 else "s")
    text = f"{model}: {failure.kind} after {tries}: {detail}"
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"


def error_type(exc: ModelCallError) -> str:
    """Return a low-cardinality `error.type`: the provider error's class, or "timeout"."""
    if isinstance(exc, ModelTimeoutError):
        return "timeout"
    cause = exc.__cause__
    return type(cause).__name__ if cause is not None else type(exc).__name__


def provider_status(exc: ModelCallError) -> int | None:
    """Return the HTTP status the provider answered with, if the failure had one."""
    return _status(exc.__cause__) if exc.__cause__ is not None else None


def is_configuration_error(exc: ModelCallError) -> bool:
    """Say whether every call to this model would fail alike until its configuration changes."""
    return (
        isinstance(exc, ModelConfigurationError) or provider_status(exc) in CONFIGURATION_STATUSES
    )


def failure_error(
    model: str, failure: Failure, attempts: int, exc: BaseException
) -> ModelCallError:
    """Return the error that ends a call: a ModelTimeoutError for timeouts, with the reason."""
    reason = _reason(model, failure, attempts, exc)
    return ModelTimeoutError(reason) if failure.is_timeout else ModelCallError(reason)


def redact(text: str, secret: str | None) -> str:
    """Return `text` with every occurrence of `secret` replaced (providers may echo a key)."""
    if not secret or len(secret) < _MIN_REDACTED:
        return text
    return text.replace(secret, _REDACTED)


def redact_error(error: ModelCallError, secret: str | None) -> ModelCallError:
    """Remove `secret` from the error's message (its text may quote the provider's)."""
    if secret and secret in error.detail:
        error.detail = redact(error.detail, secret)
        error.args = (error.detail,)
    return error


def call_error(model: str, exc: BaseException) -> ModelCallError:
    """Return the ModelCallError for a failure while reading an opened stream (not retried)."""
    error = failure_error(model, classify(exc), 1, exc)
    error.__cause__ = exc  # `error_type` names the provider's error, as for a failed call
    return error
