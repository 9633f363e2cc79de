"""Webhook requests and responses; the secret appears only in `WebhookEndpointCreated`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evals.connections.schemas import slug_problem
from evals.connections.urls import URL_MAX, endpoint_url_problem
from prompts.events import EVENT_TYPES

ALL_EVENTS: Final = "*"
EVENT_TYPES_MAX: Final = 20
DELIVERY_STATUSES: Final = ("pending", "delivered", "dead")
DeliveryStatus = Literal["pending", "delivered", "dead"]
WebhookFormat = Literal["standard", "slack"]
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _check(problem: str | None) -> None:
    if problem is not None:
        raise ValueError(problem)


def _event_types(values: list[str]) -> list[str]:
    for value in values:
        if value != ALL_EVENTS and value not in EVENT_TYPES:
            raise ValueError(
                f"unknown event type {value[:64]!r}: one of {', '.join(EVENT_TYPES)}, or '*'"
            )
    if len(set(values)) != len(values):
        raise ValueError("event_types lists a type twice")
    return values


def _description(value: str) -> str:
    if _CONTROL_RE.search(value):
        raise ValueError("description must not contain control characters")
    return value


class _EndpointFields(BaseModel):
    """Fields shared by create and update, with their checks."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=URL_MAX, description="http(s) receiver")
    event_types: list[str] | None = Field(
        default=None, min_length=1, max_length=EVENT_TYPES_MAX, description="Types, or ['*']"
    )
    format: WebhookFormat | None = None
    description: str | None = Field(default=None, max_length=2_000)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        _check(None if value is None else endpoint_url_problem(value, "url"))
        return value

    @field_validator("event_types")
    @classmethod
    def _check_event_types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _event_types(value)

    @field_validator("description")
    @classmethod
    def _check_description(cls, value: str | None) -> str | None:
        return None if value is None else _description(value)


class WebhookEndpointCreate(_EndpointFields):
    """A new endpoint: its name, receiver URL and the event types it wants."""

    name: str = Field(max_length=64)
    url: str = Field(max_length=URL_MAX, description="http(s) receiver; redirects are failures")
    event_types: list[str] = Field(
        min_length=1, max_length=EVENT_TYPES_MAX, description="Event types, or ['*'] for all"
    )
    format: WebhookFormat = Field(
        default="standard", description="standard: the event as JSON; slack: {text, blocks}"
    )
    description: str = Field(default="", max_length=2_000)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        _check(slug_problem(value, "webhook endpoint name"))
        return value


class WebhookEndpointUpdate(_EndpointFields):
    """A change: fields given replace the stored ones; `is_paused: false` resumes delivery."""

    is_paused: bool | None = Field(default=None, description="false resumes, true pauses")

    @model_validator(mode="after")
    def _not_null(self) -> WebhookEndpointUpdate:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class WebhookAttemptRead(BaseModel):
    """One request of a delivery and what came back (the receiver's text, at most 300 chars)."""

    attempted_at: datetime
    status_code: int | None
    duration_ms: float
    error: str | None
    is_manual: bool


class WebhookLastAttempt(BaseModel):
    """An endpoint's newest request, to whichever delivery, and what came back."""

    attempted_at: datetime
    status_code: int | None
    duration_ms: float
    error: str | None


class WebhookEndpointRead(BaseModel):
    """An endpoint as admins see it: never its secret."""

    name: str
    url: str
    event_types: list[str]
    format: WebhookFormat
    description: str
    is_paused: bool
    paused_reason: str | None
    consecutive_failures: int
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries are signed with the secret before the last rotation too"
    )
    last_attempt: WebhookLastAttempt | None = Field(
        default=None, description="Its newest request and what came back (null: none yet)"
    )
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpointRead):
    """An endpoint just created, or whose secret was just rotated: the secret, shown once."""

    secret: str = Field(description="whsec_…: shown only this once; verify signatures with it")


class WebhookDeliveryRead(BaseModel):
    """One event to one endpoint."""

    id: int
    webhook_id: str = Field(description="The `webhook-id` header: the same on every attempt")
    event_type: str
    occurred_at: datetime
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="When it is tried next (pending only)")
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class WebhookDeliveryDetail(WebhookDeliveryRead):
    """A delivery with its event's data and every attempt, oldest first."""

    data: dict[str, Any]
    history: list[WebhookAttemptRead]
