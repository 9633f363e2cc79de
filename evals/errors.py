"""Errors raised by the evaluation domain.

EvalsError
├── DatasetNotFoundError
│   └── DatasetArchivedError  (reading an archived dataset as current: restore it first)
├── SuiteNotFoundError
│   └── SuiteArchivedError    (reading an archived suite as current: restore it first)
├── RunNotFoundError
├── PolicyNotFoundError
├── OnlineEvaluationNotFoundError
├── ConnectionNotFoundError
├── ConnectionExistsError
├── ConnectionConflictError   (a gateway model another connection already serves)
├── InvalidConnectionError    (a field of a connection, with its path)
├── WebhookEndpointNotFoundError
├── WebhookEndpointExistsError
├── InvalidWebhookEndpointError (a field of a webhook endpoint, with its path)
├── DeliveryNotFoundError     (no such delivery to this webhook endpoint)
├── MonitorNotFoundError
├── MonitorExistsError
├── InvalidMonitorError       (a field of a monitor, e.g. its cron expression, with its path)
├── IncidentNotFoundError
├── IncidentStateError        (resolving an incident that is already resolved)
├── InvalidDatasetError       (bad rows, with their line numbers; nothing is stored)
├── InvalidSuiteError         (a field of the suite spec, with its path)
├── InvalidPolicyError
├── InvalidOnlineEvaluationError (a scorer or judge of an online evaluation, with its path)
├── RunStateError             (cancel a finished run, resume a cancelled one, ...)
├── RunStoppedError           (a configuration error every item would hit stopped the run)
├── LeaseLostError            (a worker's run was taken over; its writes are refused)
├── InvalidGatewayRequestError (a chat completion request the gateway cannot serve)
├── GatewayModelNotFoundError (a plain model no connection offers through the gateway)
├── ModelCallError            (a model call failed after the retry policy gave up)
│   ├── ModelTimeoutError
│   └── ModelConfigurationError (no usable connection for the model; never retried)
├── ScorerError               (a scorer could not score an item)
├── GateFailedError           (a protected label move the promotion policy refuses)
├── ForceReasonMissingError  (a forced move without a reason)
└── ForceNotAllowedError      (forcing a move needs a role the actor does not have)
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from promptlane_client.errors import FieldProblem


class EvalsError(Exception):
    """Root of the evaluation domain's errors."""

    title = "Evaluation error"

    def __init__(self, detail: str, *, errors: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = tuple(errors)


class DatasetNotFoundError(EvalsError):
    """No dataset (or dataset version) has this name or number."""

    title = "Dataset not found"


class DatasetArchivedError(DatasetNotFoundError):
    """The dataset is archived: it is not listed or used until it is restored."""

    title = "Dataset archived"


class SuiteNotFoundError(EvalsError):
    """No suite (or suite version) has this name or number."""

    title = "Suite not found"


class SuiteArchivedError(SuiteNotFoundError):
    """The suite is archived: it is not listed or run until it is restored."""

    title = "Suite archived"


class RunNotFoundError(EvalsError):
    """No run has this id."""

    title = "Run not found"


class PolicyNotFoundError(EvalsError):
    """No promotion policy exists for this label and scope."""

    title = "Promotion policy not found"


class OnlineEvaluationNotFoundError(EvalsError):
    """No online evaluation has this id."""

    title = "Online evaluation not found"


class ConnectionNotFoundError(EvalsError):
    """No connection has this name."""

    title = "Connection not found"


class ConnectionExistsError(EvalsError):
    """A connection with this name exists."""

    title = "Connection already exists"


class ConnectionConflictError(EvalsError):
    """A gateway model is already offered through another connection."""

    title = "Connection conflict"


class InvalidConnectionError(EvalsError):
    """The connection failed validation; `errors` point at the fields."""

    title = "Invalid connection"


class WebhookEndpointNotFoundError(EvalsError):
    """No webhook endpoint has this name."""

    title = "Webhook endpoint not found"


class WebhookEndpointExistsError(EvalsError):
    """A webhook endpoint with this name exists."""

    title = "Webhook endpoint already exists"


class InvalidWebhookEndpointError(EvalsError):
    """The webhook endpoint failed validation; `errors` point at the fields."""

    title = "Invalid webhook endpoint"


class DeliveryNotFoundError(EvalsError):
    """The webhook endpoint has no delivery with this id."""

    title = "Webhook delivery not found"


class MonitorNotFoundError(EvalsError):
    """No monitor has this name."""

    title = "Monitor not found"


class MonitorExistsError(EvalsError):
    """A monitor with this name exists."""

    title = "Monitor already exists"


class InvalidMonitorError(EvalsError):
    """The monitor failed validation; `errors` point at the fields."""

    title = "Invalid monitor"


class IncidentNotFoundError(EvalsError):
    """No label incident has this id."""

    title = "Incident not found"


class IncidentStateError(EvalsError):
    """The incident cannot do this in its state (it is resolved already)."""

    title = "Incident already resolved"


class InvalidDatasetError(EvalsError):
    """Dataset rows failed validation; `errors` point at them."""

    title = "Invalid dataset"


class InvalidSuiteError(EvalsError):
    """The suite specification failed validation; `errors` point at the fields."""

    title = "Invalid suite"


class InvalidPolicyError(EvalsError):
    """The promotion policy failed validation."""

    title = "Invalid promotion policy"


class InvalidOnlineEvaluationError(EvalsError):
    """The online evaluation failed validation; `errors` point at the fields."""

    title = "Invalid online evaluation"


class RunStateError(EvalsError):
    """The run is not in a state that allows this."""

    title = "Run state conflict"


class LeaseLostError(EvalsError):
    """The worker no longer holds the run's lease: another worker took it over."""

    title = "Run lease lost"


class InvalidGatewayRequestError(EvalsError):
    """A chat completion request the gateway cannot serve (bad model reference, no messages)."""

    title = "Invalid chat completion request"

    def __init__(self, detail: str, *, param: str | None = None) -> None:
        super().__init__(detail)
        self.param = param


class GatewayModelNotFoundError(EvalsError):
    """A plain model that is neither offline nor offered by a connection's gateway models."""

    title = "Model not found"


class ModelCallError(EvalsError):
    """A model call failed and the retry policy gave up."""

    title = "Model call failed"
    # The `chat` span that recorded the failed call, set by the client that made it.
    trace_id: str | None = None
    span_id: str | None = None


class ModelTimeoutError(ModelCallError):
    """A model call did not answer within its timeout."""

    title = "Model call timed out"


class ModelConfigurationError(ModelCallError):
    """The model cannot be called as configured (no such connection, no key); not retried."""

    title = "Model not configured"


class RunStoppedError(EvalsError):
    """A run stopped early: a configuration error (model or judge) every item would hit."""

    title = "Run stopped early"


class ScorerError(EvalsError):
    """A scorer could not score an item."""

    title = "Scorer failed"


class GateFailedError(EvalsError):
    """The promotion policy refuses the move; `report` says which conditions failed."""

    title = "Promotion gate not passed"

    def __init__(self, detail: str, *, report: BaseModel) -> None:
        super().__init__(detail)
        self.report = report
        # The 409 body's `gate` member (api/server/openapi.py declares it as a GateReport).
        self.extensions = {"gate": report.model_dump(mode="json")}


class ForceReasonMissingError(EvalsError):
    """A forced move was asked for without saying why (the audit trail needs the reason)."""

    title = "Reason required"


class ForceNotAllowedError(EvalsError):
    """The policy lets only a higher role force a move past its gate."""

    title = "Forcing not allowed"
