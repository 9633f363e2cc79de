"""Every endpoint, every role: who gets 2xx, who gets 401 or 403."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from prompts.policy import Role
from tests.api import matrix_monitors
from tests.conftest import auth
from tests.factories import chat_body
from tests.otlp_requests import JSON, genai, otlp_json, span

SEED = "matrix/prompt"
SUITE = "matrix/suite"
DATASET = "matrix/dataset"
CONNECTION = "matrix"
HOOK = "matrix"  # a webhook endpoint
ARCHIVED = "matrix/archived"
TRACE = (
    "5eed" * 8
)  # an ingested trace with one model call  # an archived prompt, dataset and suite, to restore


@dataclass(frozen=True)
class Case:
    """How to call one endpoint validly; `tag` makes names unique per role."""

    needs: Role | None
    build: Callable[[str], tuple[str, dict[str, Any]]]


def _body(json: Any = None, params: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if json is not None:
        out["json"] = json
    if params is not None:
        out["params"] = params
    return out


MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/healthz"): Case(None, lambda t: ("/healthz", {})),
    ("GET", "/v1/schemas/{name}.json"): Case(None, lambda t: ("/v1/schemas/suite-file.json", {})),
    ("GET", "/readyz"): Case(None, lambda t: ("/readyz", {})),
    ("GET", "/metrics"): Case(None, lambda t: ("/metrics", {})),  # PROMPTLANE_METRICS_PUBLIC
    ("GET", "/dashboard"): Case(None, lambda t: ("/dashboard", {})),  # the data needs a key
    ("GET", "/dashboard/assets/{name}"): Case(None, lambda t: ("/dashboard/assets/app.js", {})),
    ("GET", "/console"): Case(None, lambda t: ("/console", {})),  # the data needs a key
    ("GET", "/console/assets/{name}"): Case(None, lambda t: ("/console/assets/app.js", {})),
    ("GET", "/console/{page}"): Case(None, lambda t: ("/console/prompts/x/diff", {})),
    ("POST", "/v1/prompts"): Case(
        Role.WRITER, lambda t: ("/v1/prompts", _body({"name": f"new/{t}"}))
    ),
    ("GET", "/v1/prompts"): Case(Role.READER, lambda t: ("/v1/prompts", {})),
    ("POST", "/v1/prompts/{name}/versions"): Case(
        Role.WRITER, lambda t: (f"/v1/prompts/pub/{t}/versions", _body(chat_body()))
    ),
    ("POST", "/v1/prompts/{name}/versions/plan"): Case(
        Role.WRITER, lambda t: (f"/v1/prompts/pub/{t}/versions/plan", _body(chat_body()))
    ),
    ("GET", "/v1/prompts/{name}/versions"): Case(
        Role.READER, lambda t: (f"/v1/prompts/{SEED}/versions", {})
    ),
    ("GET", "/v1/prompts/{name}/versions/{version}"): Case(
        Role.READER, lambda t: (f"/v1/prompts/{SEED}/versions/1", {})
    ),
    ("POST", "/v1/prompts/{name}/render"): Case(
        Role.READER,
        lambda t: (
            f"/v1/prompts/{SEED}/render",
            _body({"version": 1, "variables": {"company": "c", "ticket": "t"}}),
        ),
    ),
    ("GET", "/v1/prompts/{name}/diff"): Case(
        Role.READER, lambda t: (f"/v1/prompts/{SEED}/diff", _body(params={"from": 1, "to": 2}))
    ),
    ("GET", "/v1/prompts/{name}/labels"): Case(
        Role.READER, lambda t: (f"/v1/prompts/{SEED}/labels", {})
    ),
    ("GET", "/v1/prompts/{name}/labels/{label}"): Case(
        Role.READER, lambda t: (f"/v1/prompts/{SEED}/labels/staging", {})
    ),
    ("GET", "/v1/prompts/{name}/labels/{label}/history"): Case(
        Role.READER, lambda t: (f"/v1/prompts/{SEED}/labels/staging/history", {})
    ),
    ("PUT", "/v1/prompts/{name}/labels/{label}"): Case(
        Role.WRITER, lambda t: (f"/v1/prompts/{SEED}/labels/{t}", _body({"version": 2}))
    ),
    ("DELETE", "/v1/prompts/{name}/labels/{label}"): Case(
        Role.WRITER, lambda t: (f"/v1/prompts/{SEED}/labels/staging", _body(params={"reason": t}))
    ),
    ("POST", "/v1/prompts/{name}/archive"): Case(
        Role.WRITER, lambda t: (f"/v1/prompts/{SEED}/archive", _body({"reason": t}))
    ),
    ("POST", "/v1/prompts/{name}/restore"): Case(
        Role.WRITER, lambda t: (f"/v1/prompts/{ARCHIVED}/restore", {})
    ),
    ("POST", "/v1/datasets/{name}/archive"): Case(
        Role.WRITER, lambda t: (f"/v1/datasets/{DATASET}/archive", _body({"reason": t}))
    ),
    ("POST", "/v1/datasets/{name}/restore"): Case(
        Role.WRITER, lambda t: (f"/v1/datasets/{ARCHIVED}/restore", {})
    ),
    ("POST", "/v1/suites/{name}/archive"): Case(
        Role.WRITER, lambda t: (f"/v1/suites/{SUITE}/archive", _body({"reason": t}))
    ),
    ("POST", "/v1/suites/{name}/restore"): Case(
        Role.WRITER, lambda t: (f"/v1/suites/{ARCHIVED}/restore", {})
    ),
    ("PATCH", "/v1/prompts/{name}"): Case(
        Role.WRITER, lambda t: (f"/v1/prompts/{SEED}", _body({"description": t}))
    ),
    ("GET", "/v1/prompts/{name}"): Case(
        Role.READER, lambda t: (f"/v1/prompts/{SEED}", _body(params={"label": "staging"}))
    ),
    ("POST", "/v1/datasets/{name}/versions"): Case(
        Role.WRITER,
        lambda t: (f"/v1/datasets/pub/{t}/versions", _body([{"input": {"q": t}}])),
    ),
    ("POST", "/v1/datasets/{name}/versions/from-generations"): Case(
        Role.WRITER,
        lambda t: (f"/v1/datasets/cur/{t}/versions/from-generations", _body({"prompt": SEED})),
    ),
    ("GET", "/v1/datasets"): Case(Role.READER, lambda t: ("/v1/datasets", {})),
    ("GET", "/v1/datasets/{name}/versions"): Case(
        Role.READER, lambda t: (f"/v1/datasets/{DATASET}/versions", {})
    ),
    ("GET", "/v1/datasets/{name}/versions/{version}"): Case(
        Role.READER, lambda t: (f"/v1/datasets/{DATASET}/versions/1", {})
    ),
    ("GET", "/v1/datasets/{name}/diff"): Case(
        Role.READER,
        lambda t: (f"/v1/datasets/{DATASET}/diff", _body(params={"from": 1, "to": 2})),
    ),
    ("GET", "/v1/datasets/{name}"): Case(Role.READER, lambda t: (f"/v1/datasets/{DATASET}", {})),
    ("POST", "/v1/suites"): Case(
        Role.WRITER, lambda t: ("/v1/suites", _body(suite_json(f"suite-{t}")))
    ),
    ("GET", "/v1/suites"): Case(Role.READER, lambda t: ("/v1/suites", {})),
    ("GET", "/v1/suites/{name}"): Case(Role.READER, lambda t: (f"/v1/suites/{SUITE}", {})),
    ("GET", "/v1/suites/{name}/versions"): Case(
        Role.READER, lambda t: (f"/v1/suites/{SUITE}/versions", {})
    ),
    ("GET", "/v1/suites/{name}/versions/{version}"): Case(
        Role.READER, lambda t: (f"/v1/suites/{SUITE}/versions/1", {})
    ),
    ("POST", "/v1/runs"): Case(
        Role.WRITER,
        lambda t: ("/v1/runs", _body({"suite": SUITE, "prompt": SEED, "version": 1})),
    ),
    ("GET", "/v1/runs"): Case(Role.READER, lambda t: ("/v1/runs", {})),
    ("GET", "/v1/runs/{run_id}"): Case(Role.READER, lambda t: ("/v1/runs/{run}", {})),
    ("GET", "/v1/runs/{run_id}/items"): Case(Role.READER, lambda t: ("/v1/runs/{run}/items", {})),
    ("GET", "/v1/runs/{run_id}/events"): Case(
        Role.READER, lambda t: ("/v1/runs/{cancelled}/events", {})
    ),
    ("POST", "/v1/runs/{run_id}/cancel"): Case(
        Role.WRITER, lambda t: ("/v1/runs/{run}/cancel", {})
    ),
    ("POST", "/v1/runs/{run_id}/resume"): Case(
        Role.WRITER, lambda t: ("/v1/runs/{run}/resume", {})
    ),
    ("GET", "/v1/runs/compare"): Case(
        Role.READER, lambda t: ("/v1/runs/compare", _body(params={"a": "{run}", "b": "{run}"}))
    ),
    ("PUT", "/v1/policies/{label}"): Case(
        Role.ADMIN, lambda t: (f"/v1/policies/{t}", _body({"required_suites": [SUITE]}))
    ),
    ("GET", "/v1/policies"): Case(Role.READER, lambda t: ("/v1/policies", {})),
    ("GET", "/v1/policies/history"): Case(Role.READER, lambda t: ("/v1/policies/history", {})),
    ("GET", "/v1/audit/verify"): Case(Role.READER, lambda t: ("/v1/audit/verify", {})),
    ("DELETE", "/v1/policies/{label}"): Case(Role.ADMIN, lambda t: ("/v1/policies/gone", {})),
    ("GET", "/v1/prompts/{name}/labels/{label}/check"): Case(
        Role.READER,
        lambda t: (f"/v1/prompts/{SEED}/labels/production/check", _body(params={"version": 1})),
    ),
    ("POST", "/v1/keys"): Case(
        Role.ADMIN, lambda t: ("/v1/keys", _body({"name": f"key-{t}", "role": "reader"}))
    ),
    ("GET", "/v1/keys"): Case(Role.ADMIN, lambda t: ("/v1/keys", {})),
    ("GET", "/v1/keys/me"): Case(Role.READER, lambda t: ("/v1/keys/me", {})),
    ("POST", "/v1/keys/{key_id}/revoke"): Case(
        Role.ADMIN, lambda t: ("/v1/keys/{victim}/revoke", {})
    ),
    ("POST", "/v1/connections"): Case(
        Role.ADMIN,
        lambda t: ("/v1/connections", _body({"name": f"conn-{t}", "provider": "openai"})),
    ),
    ("GET", "/v1/connections"): Case(Role.READER, lambda t: ("/v1/connections", {})),
    ("GET", "/v1/connections/{name}"): Case(
        Role.READER, lambda t: (f"/v1/connections/{CONNECTION}", {})
    ),
    ("PATCH", "/v1/connections/{name}"): Case(
        Role.ADMIN, lambda t: (f"/v1/connections/{CONNECTION}", _body({"description": t}))
    ),
    ("DELETE", "/v1/connections/{name}"): Case(
        Role.ADMIN, lambda t: ("/v1/connections/doomed", {})
    ),
    ("POST", "/v1/webhooks"): Case(
        Role.ADMIN, lambda t: ("/v1/webhooks", _body(webhook_json(f"hook-{t}")))
    ),
    ("GET", "/v1/webhooks"): Case(Role.ADMIN, lambda t: ("/v1/webhooks", {})),
    ("GET", "/v1/webhooks/{name}"): Case(Role.ADMIN, lambda t: (f"/v1/webhooks/{HOOK}", {})),
    ("PATCH", "/v1/webhooks/{name}"): Case(
        Role.ADMIN, lambda t: (f"/v1/webhooks/{HOOK}", _body({"description": t}))
    ),
    ("DELETE", "/v1/webhooks/{name}"): Case(Role.ADMIN, lambda t: ("/v1/webhooks/doomed", {})),
    ("POST", "/v1/webhooks/{name}/rotate-secret"): Case(
        Role.ADMIN, lambda t: (f"/v1/webhooks/{HOOK}/rotate-secret", {})
    ),
    ("POST", "/v1/webhooks/{name}/test"): Case(
        Role.ADMIN, lambda t: (f"/v1/webhooks/{HOOK}/test", {})
    ),
    ("GET", "/v1/webhooks/{name}/deliveries"): Case(
        Role.ADMIN, lambda t: (f"/v1/webhooks/{HOOK}/deliveries", _body(params={"limit": 10}))
    ),
    ("GET", "/v1/webhooks/{name}/deliveries/{delivery_id}"): Case(
        Role.ADMIN, lambda t: (f"/v1/webhooks/{HOOK}/deliveries/{{delivery}}", {})
    ),
    ("POST", "/v1/webhooks/{name}/deliveries/{delivery_id}/redeliver"): Case(
        Role.ADMIN, lambda t: (f"/v1/webhooks/{HOOK}/deliveries/{{delivery}}/redeliver", {})
    ),
    ("GET", "/v1/analytics/usage"): Case(Role.READER, lambda t: ("/v1/analytics/usage", {})),
    ("GET", "/v1/generations"): Case(Role.WRITER, lambda t: ("/v1/generations", {})),
    ("GET", "/v1/generations/{generation_id}"): Case(
        Role.WRITER, lambda t: ("/v1/generations/{generation}", {})
    ),
    ("GET", "/v1/traces"): Case(Role.READER, lambda t: ("/v1/traces", {})),
    ("GET", "/v1/traces/{trace_id}"): Case(Role.READER, lambda t: (f"/v1/traces/{TRACE}", {})),
    ("POST", "/v1/traces"): Case(  # an empty OTLP/JSON export
        Role.WRITER, lambda t: ("/v1/traces", _body({"resourceSpans": []}))
    ),
    ("GET", "/v1/online-evaluations"): Case(Role.READER, lambda t: ("/v1/online-evaluations", {})),
    ("PUT", "/v1/online-evaluations"): Case(
        Role.WRITER, lambda t: ("/v1/online-evaluations", _body(online_json(t)))
    ),
    ("DELETE", "/v1/online-evaluations/{evaluation_id}"): Case(
        Role.WRITER, lambda t: ("/v1/online-evaluations/{online}", {})
    ),
    ("POST", "/v1/chat/completions"): Case(  # a reader key, as applications hold
        Role.READER,
        lambda t: (
            "/v1/chat/completions",
            _body({"model": "offline/echo", "messages": [{"role": "user", "content": t}]}),
        ),
    ),
    ("GET", "/v1/models"): Case(Role.READER, lambda t: ("/v1/models", {})),
    ("GET", "/v1/models/{model}"): Case(Role.READER, lambda t: ("/v1/models/offline/echo", {})),
    ("GET", "/v1/analytics/drift"): Case(
        Role.READER,
        lambda t: ("/v1/analytics/drift", _body(params={"prompt": SEED, "version": 1})),
    ),
}
MATRIX.update({k: Case(*v) for k, v in matrix_monitors.routes(SEED).items()})

ROLES: list[Role | None] = [None, Role.READER, Role.WRITER, Role.ADMIN]


def test_matrix_covers_every_route(app: Any) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert routes == set(MATRIX), "add new endpoints to the role matrix"


def online_json(label: str | None) -> dict[str, Any]:
    return {"prompt": SEED, "label": label, "sample_rate": 1.0, "scorers": [{"type": "pii"}]}


def webhook_json(name: str) -> dict[str, Any]:
    return {"name": name, "url": "https://hooks.example.test/in", "event_types": ["*"]}


def suite_json(name: str) -> dict[str, Any]:
    return {"name": name, "dataset": DATASET, "scorers": [{"type": "exact_match"}]}


async def _seed(client: httpx.AsyncClient, app: Any = None) -> dict[str, int]:
    await client.post(f"/v1/prompts/{SEED}/versions", json=chat_body())
    await client.post(f"/v1/prompts/{SEED}/versions", json=chat_body(config={"model": "m/2"}))
    await client.put(f"/v1/prompts/{SEED}/labels/staging", json={"version": 1})
    for q in ("one", "two"):
        await client.post(f"/v1/datasets/{DATASET}/versions", json=[{"input": {"q": q}}])
    victim = await client.post("/v1/keys", json={"name": "victim", "role": "reader"})
    await client.post("/v1/suites", json=suite_json(SUITE))
    await client.put("/v1/policies/gone", json={"required_suites": [SUITE]})
    for name in (CONNECTION, "doomed"):
        await client.post("/v1/connections", json={"name": name, "provider": "openai"})
    online = await client.put("/v1/online-evaluations", json=online_json(None))
    ids = {"victim": int(victim.json()["id"]), "online": int(online.json()["id"])}
    for name in (HOOK, "doomed"):
        await client.post("/v1/webhooks", json=webhook_json(name))
    ids["delivery"] = int((await client.post(f"/v1/webhooks/{HOOK}/test")).json()["id"])
    await client.post("/v1/traces", content=otlp_json(span(genai(), trace_id=TRACE)), headers=JSON)
    calls = await client.get("/v1/generations", params={"trace_id": TRACE})
    ids["generation"] = int(calls.json()["items"][0]["id"])
    for key in ("run", "cancelled"):
        run = await client.post("/v1/runs", json={"suite": SUITE, "prompt": SEED, "version": 1})
        ids[key] = int(run.json()["id"])
    await client.post(f"/v1/runs/{ids['cancelled']}/cancel")
    await client.post(f"/v1/prompts/{ARCHIVED}/versions", json=chat_body())
    await client.post(f"/v1/datasets/{ARCHIVED}/versions", json=[{"input": {"q": "x"}}])
    await client.post("/v1/suites", json=suite_json(ARCHIVED))
    for kind in ("prompts", "datasets", "suites"):
        archived = await client.post(f"/v1/{kind}/{ARCHIVED}/archive")
        assert archived.status_code == 200, archived.text
    if app is not None:
        ids.update(await matrix_monitors.seed(client, app.state.services.db, SEED))
    return ids


@pytest.mark.parametrize("endpoint", sorted(MATRIX), ids=lambda e: f"{e[0]} {e[1]}")
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
async def test_role_matrix(
    app: Any, client: httpx.AsyncClient, endpoint: tuple[str, str], role: Role | None
) -> None:
    ids = await _seed(client, app)
    case = MATRIX[endpoint]
    tag = role.value if role else "anon"
    path, kwargs = case.build(tag)
    for key, value in ids.items():
        path = path.replace(f"{{{key}}}", str(value))
    if "params" in kwargs:
        kwargs["params"] = {k: ids.get(str(v).strip("{}"), v) for k, v in kwargs["params"].items()}
    headers = auth(role) if role else {"Authorization": ""}
    response = await client.request(endpoint[0], path, headers=headers, **kwargs)
    if case.needs is None:
        assert 200 <= response.status_code < 300, response.text
    elif role is None:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
    elif not role.allows(case.needs):
        assert response.status_code == 403, response.text
    else:
        assert 200 <= response.status_code < 300, response.text


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer pl_short", "Bearer pl_" + "z" * 40],
)
async def test_bad_credentials_are_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/v1/prompts", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("role", "status"), [(Role.READER, 403), (Role.WRITER, 403), (Role.ADMIN, 200)]
)
async def test_protected_label_matrix(client: httpx.AsyncClient, role: Role, status: int) -> None:
    await _seed(client)
    response = await client.put(
        f"/v1/prompts/{SEED}/labels/production", json={"version": 1}, headers=auth(role)
    )
    assert response.status_code == status


def test_the_openapi_document_says_which_key_each_operation_needs(app: Any) -> None:
    spec = app.openapi()
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["apiKey"]["description"],
    }
    for (method, path), case in MATRIX.items():
        operation = spec["paths"][path][method.lower()]
        if case.needs is None:
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == [{"apiKey": [case.needs.value]}], (method, path)
            assert f"Needs a **{case.needs.value}** key" in operation["description"]
