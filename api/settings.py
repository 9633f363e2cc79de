"""Settings read from the environment (`PROMPTLANE_*`); the only place that reads it."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_credentials_file() -> Path:
    """Return where the CLI keeps API keys: $XDG_CONFIG_HOME/promptlane/credentials.json."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "promptlane" / "credentials.json"


def default_secret_key_file() -> Path:
    """Return where the server keeps its generated secret key: beside the CLI credentials."""
    return default_credentials_file().with_name("secret.key")


# Provider key variables a connection may name (`api_key_env`); no other variable is readable.
DEFAULT_CONNECTION_ENV: Final = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "AZURE_API_KEY",
    "GEMINI_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "COHERE_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHERAI_API_KEY",
)


# What an API key looks like (api.identity.keys makes and checks them with this).
API_KEY_RE: Final = re.compile(r"pl_[A-Za-z0-9_-]{20,200}")
API_KEY_FORMAT: Final = "pl_ followed by 20 to 200 letters, digits, '-' or '_'"


def _env(name: str, otel: str) -> AliasChoices:
    """Read a setting from PROMPTLANE_<name>, else from the standard OTel variable."""
    return AliasChoices(f"PROMPTLANE_{name}", otel)


class Settings(BaseSettings):
    """Server settings; every field can be set as `PROMPTLANE_<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix="PROMPTLANE_", extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    database_url: str = Field(
        default="sqlite:///./promptlane.db",
        description="SQLAlchemy URL: sqlite:///path (default) or postgresql://user@host/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    migrate_on_start: bool = True

    bootstrap_admin_key: SecretStr | None = None
    credentials_file: Path = Field(default_factory=default_credentials_file)

    secret_keys: SecretStr | None = Field(
        default=None,
        description="Fernet keys, comma-separated: the first encrypts connection keys, all decrypt",
    )
    secret_key_file: Path = Field(
        default_factory=default_secret_key_file,
        description="Key used without PROMPTLANE_SECRET_KEYS (created 0600 on first start)",
    )
    connection_env_allowlist: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CONNECTION_ENV),
        description="Environment variables a connection may name as its key (JSON list)",
    )
    connections_cache_ttl: float = Field(
        default=5.0, ge=0, description="Seconds connections stay cached (other replicas)"
    )
    warm_model_layer: bool = Field(
        default=True,
        description="Import litellm in the background after start, so the first model call "
        "or eval run does not wait seconds for it",
    )
    gateway_offline_models: bool = Field(
        default=True, description="Serve offline/* models as plain gateway models"
    )

    protected_labels: list[str] = Field(default_factory=lambda: ["production"])

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_template_chars: int = Field(default=100_000, ge=1)
    render_max_chars: int = Field(
        default=1_000_000, ge=1, description="Longest rendered prompt, in characters"
    )
    render_max_seconds: float = Field(
        default=1.0, gt=0, le=60, description="Longest a render may take (every render path)"
    )

    resolve_cache_ttl: float = Field(
        default=5.0, ge=0, description="Seconds a cached resolve stays valid (other replicas)"
    )
    resolve_cache_size: int = Field(default=10_000, ge=0)
    resolve_max_age: int = Field(
        default=0, ge=0, description="Cache-Control max-age of resolve responses"
    )
    auth_cache_ttl: float = Field(default=30.0, ge=0)

    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    db_pool_size: int = Field(default=10, ge=1)

    run_executor: Literal["inprocess", "none"] = Field(
        default="inprocess", description="Where eval runs execute ('none': another process does)"
    )
    run_lease_seconds: float = Field(
        default=20.0, gt=0, description="A run whose worker is silent this long is resumed"
    )
    run_recover_every: float = Field(default=5.0, gt=0)
    run_events_interval: float = Field(default=0.5, gt=0, description="SSE poll interval")
    model_timeout: float = Field(default=60.0, gt=0, description="Per model call, in seconds")
    model_attempts: int = Field(default=4, ge=1, le=10, description="Tries per model call")
    gateway_attempts: int = Field(
        default=1, ge=1, le=10, description="Tries per gateway call (the caller's SDK retries too)"
    )
    gateway_flush_interval: float = Field(
        default=0.2,
        ge=0,
        le=60,
        description="Seconds gateway generations gather before they are written in one INSERT",
    )

    online_eval_enabled: bool = Field(
        default=True, description="Score sampled production generations in the background"
    )
    online_eval_queue_size: int = Field(
        default=1000, ge=1, description="Generations waiting to be scored; past it they're skipped"
    )
    online_eval_concurrency: int = Field(default=4, ge=1, le=256, description="Scoring workers")
    online_eval_config_ttl: float = Field(
        default=5.0, ge=0, description="Seconds the online evaluation configs stay cached"
    )
    online_eval_keep_content: bool = Field(
        default=False,
        description="Keep sampled calls' messages and answers after scoring (personal data!)",
    )
    online_eval_judge_model: str | None = Field(
        default=None, description="Judge model when a judge scorer's prompt and params name none"
    )
    pii_spacy_model: str | None = Field(
        default=None,
        min_length=1,
        description="Installed spaCy model (package or path) that adds names and addresses to "
        "the pii scorer; never downloaded",
    )

    # Tracing: each PROMPTLANE_TRACING_* setting falls back to its standard OTEL_* variable.
    tracing_exporter: str | None = Field(
        default=None,
        validation_alias=_env("TRACING_EXPORTER", "OTEL_TRACES_EXPORTER"),
        description="otlp, console or none (default: otlp when an OTLP endpoint is set)",
    )
    tracing_endpoint: str | None = Field(
        default=None,
        validation_alias=_env("TRACING_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        description="OTLP/HTTP traces URL, used as is",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=_env("OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="OTLP/HTTP base URL; traces go to <base>/v1/traces",
    )
    tracing_headers: str | None = Field(
        default=None,
        validation_alias=_env("TRACING_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
        description="Exporter headers as k=v,k2=v2 (URL-encoded values)",
    )
    otlp_headers: str | None = Field(
        default=None, validation_alias=_env("OTLP_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
    )
    service_name: str = Field(
        default="promptlane", validation_alias=_env("SERVICE_NAME", "OTEL_SERVICE_NAME")
    )
    tracing_sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        validation_alias=_env("TRACING_SAMPLE_RATIO", "OTEL_TRACES_SAMPLER_ARG"),
        description="Share of new traces kept (parent-based ratio sampler)",
    )
    tracing_max_queue_size: int = Field(
        default=8192,
        ge=1,
        validation_alias=_env("TRACING_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_QUEUE_SIZE"),
        description="Spans waiting for export; past it spans are dropped and counted",
    )
    tracing_max_export_batch_size: int = Field(
        default=512,
        ge=1,
        validation_alias=_env("TRACING_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
    )
    tracing_record_content: bool = Field(
        default=False,
        validation_alias=_env(
            "TRACING_RECORD_CONTENT", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
        ),
        description="Record prompt and answer text on model-call spans (personal data!)",
    )
    otlp_grpc_enabled: bool = Field(
        default=False,
        description="Also receive OTLP traces over gRPC (TraceService/Export) on otlp_grpc_port",
    )
    otlp_grpc_port: int = Field(
        default=4317, ge=1, le=65535, description="Port of the OTLP/gRPC receiver (on host)"
    )
    otlp_grpc_reuse_port: bool = Field(
        default=False,
        description="Let several processes bind the OTLP/gRPC port (SO_REUSEPORT; set by "
        "`promptlane serve --workers N`)",
    )
    trace_retention_days: int = Field(
        default=30,
        ge=0,
        le=36500,
        description="Days ingested spans (trace trees) are kept; 0 keeps them forever",
    )
    trace_purge_interval: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between two purges of expired spans and webhook outbox rows",
    )
    rollup_fold_interval: float = Field(
        default=30.0,
        ge=0,
        description="Seconds between two folds of minute rollups into hours and days; 0: none "
        "(analytics stay exact, reading minute rollups since the last fold)",
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, le=60, description="Seconds a webhook receiver has to answer"
    )
    webhook_concurrency: int = Field(
        default=8, ge=1, le=256, description="Webhook requests in flight (two per endpoint)"
    )
    webhook_poll_interval: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between two looks for due webhook deliveries (a change wakes it)",
    )
    event_retention_days: int = Field(
        default=30,
        ge=0,
        le=36500,
        description="Days finished webhook deliveries (delivered or dead, with their attempts) "
        "and the events nothing waits for are kept; 0 keeps them forever. A pending delivery "
        "and its event are never purged",
    )
    webhook_pause_after: float = Field(
        default=86_400.0,
        gt=0,
        description="Seconds of failing deliveries (no success) after which an endpoint pauses",
    )
    monitor_interval: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds between two ticks of the monitor scheduler (due periods, ended runs)",
    )
    monitor_run_timeout: float = Field(
        default=21_600.0,
        ge=60,
        description="Seconds a scheduled monitor's re-runs may take before its event is timed_out",
    )
    metrics_public: bool = Field(
        default=True, description="Serve GET /metrics without an API key (Prometheus' norm)"
    )
    metrics_max_label_values: int = Field(default=1000, ge=1)

    @field_validator("bootstrap_admin_key")
    @classmethod
    def _check_bootstrap_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and not API_KEY_RE.fullmatch(key.get_secret_value()):
            raise ValueError(
                f"must look like {API_KEY_FORMAT} (make one with `promptlane keys generate`)"
            )
        return key

    @field_validator("connection_env_allowlist")
    @classmethod
    def _check_allowlist(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(r"[A-Z_][A-Z0-9_]{0,127}", name):
                raise ValueError(f"{name!r} is not an environment variable name")
            if name.startswith("PROMPTLANE_"):  # the server's own secrets are never a key
                raise ValueError(f"{name} cannot be a connection's key variable")
        return names

    @model_validator(mode="after")
    def _check_grpc_port(self) -> Settings:
        if self.otlp_grpc_enabled and self.otlp_grpc_port == self.port:
            raise ValueError(
                f"PROMPTLANE_OTLP_GRPC_PORT: {self.otlp_grpc_port} is the HTTP port "
                "(PROMPTLANE_PORT); the gRPC receiver needs a port of its own"
            )
        return self

    def connection_env(self) -> dict[str, str]:
        """Return the allow-listed key variables that are set: all a connection may read."""
        return {
            name: os.environ[name] for name in self.connection_env_allowlist if os.environ.get(name)
        }

    @property
    def public_url(self) -> str:
        """Return the URL a local client uses to reach this server."""
        wildcard = self.host in ("0.0.0.0", "::", "")  # noqa: S104 (a comparison, not a bind)
        host = "127.0.0.1" if wildcard else self.host
        return f"http://{host}:{self.port}"


def settings_problem(exc: ValidationError) -> str:
    """Return a settings error as one line naming each variable: `PROMPTLANE_X: what is wrong`."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        name = f"PROMPTLANE_{field.upper()}" if field and not field.isupper() else field
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{name}: {message}" if name else message)
    return "; ".join(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return settings from the environment (cached for the process)."""
    return Settings()
