"""The OpenAPI document says what the API answers: problem JSON errors and the name rules."""

from __future__ import annotations

import re
from typing import Any

from prompts.schemas import LABEL_RE, NAME_RE

PROBLEMS = {"400", "401", "403", "404", "409", "413", "422", "503"}
LABEL_MOVE = "/v1/prompts/{name}/labels/{label}"
PROBES = {"/healthz", "/readyz"}  # for load balancers, which read the status code


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def response_schema(op: dict[str, Any]) -> dict[str, Any] | None:
    """Return the schema of an operation's JSON success, if it has one."""
    for status in ("200", "201", "202"):
        content = op["responses"].get(status, {}).get("content", {})
        if "application/json" in content:
            schema: dict[str, Any] = content["application/json"].get("schema", {})
            return schema
    return None


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_operation_declares_its_problem_responses(app: Any) -> None:
    spec = app.openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}
    for method, path, op in operations(spec):
        if path == "/v1/chat/completions":  # OpenAI's error shape, declared by the route
            assert {"400", "401", "404"} <= set(op["responses"])
            continue
        if path.startswith("/v1/models"):  # OpenAI's shape too (GET /v1/models, its items)
            assert "401" in op["responses"]
            continue
        for status in PROBLEMS:
            content = op["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            expected = "Problem"
            if (method, path, status) == ("put", LABEL_MOVE, "409"):
                expected = "GateRefusal"  # a refused promotion carries its gate report
            assert content["application/problem+json"]["schema"] == ref(expected)


def test_a_refused_label_move_declares_its_gate_report(app: Any) -> None:
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    refusal = schemas["GateRefusal"]
    assert set(refusal["required"]) == {"type", "title", "status", "gate"}
    assert refusal["properties"]["gate"]["$ref"] == ref("GateReport")["$ref"]
    errors = refusal["properties"]["errors"]["anyOf"]
    assert errors == schemas["Problem"]["properties"]["errors"]["anyOf"]
    report = schemas["GateReport"]
    assert report["properties"]["suites"]["items"] == ref("SuiteEvidence")
    check = spec["paths"][LABEL_MOVE + "/check"]["get"]
    assert response_schema(check) == ref("GateReport")


def test_runs_answer_typed_reports(app: Any) -> None:
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    assert response_schema(spec["paths"]["/v1/runs/{run_id}"]["get"]) == ref("RunRead")
    assert response_schema(spec["paths"]["/v1/runs/compare"]["get"]) == ref("RunComparison")
    run = schemas["RunRead"]["properties"]
    assert run["summary"]["anyOf"] == [ref("RunSummary"), {"type": "null"}]
    assert run["gate"]["anyOf"] == [ref("RunGateReport"), {"type": "null"}]
    assert run["manifest"] == ref("RunManifest")
    judges = schemas["RunManifest"]["properties"]["judges"]["additionalProperties"]
    assert judges == schemas["SuiteVersionRead"]["properties"]["judges"]["additionalProperties"]
    assert judges == ref("VersionRef")
    gate = schemas["RunGateReport"]["properties"]
    assert gate["conditions"]["items"] == ref("ConditionReport")
    assert gate["baseline"]["anyOf"] == [ref("BaselineComparison"), {"type": "null"}]
    assert gate["verdict"] == ref("Verdict")
    baseline = schemas["BaselineComparison"]
    assert {"interval", "outcome", "difference"} <= set(baseline["properties"])
    assert schemas["Verdict"]["enum"] == ["passed", "failed", "inconclusive"]
    summary = schemas["RunSummary"]["properties"]
    assert summary["metrics"]["additionalProperties"] == ref("MetricStats")
    assert {"cost_usd", "scoring_cost_usd", "input_tokens", "cached"} <= set(summary)
    comparison = schemas["RunComparison"]["properties"]
    assert comparison["metrics"]["additionalProperties"] == ref("MetricDelta")
    assert comparison["items"]["items"] == ref("ItemDelta")
    scores = schemas["RunItemRead"]["properties"]["scores"]["additionalProperties"]
    assert scores["anyOf"] == [ref("ScoreEntry"), ref("ScoreFailure")]


def test_no_operation_answers_an_untyped_object(app: Any) -> None:
    untyped = []
    for method, path, op in operations(app.openapi()):
        if path in PROBES:
            continue
        schema = response_schema(op)
        if schema is None:  # no JSON body: metrics, dashboards, event streams, 204s
            continue
        if schema == {} or (schema.get("type") == "object" and "properties" not in schema):
            untyped.append((method, path))
    # Shapes others define, parsed by their SDKs: OpenAI's chat completion, OTLP's response.
    assert untyped == [("post", "/v1/chat/completions"), ("post", "/v1/traces")]


def test_names_and_labels_carry_their_patterns(app: Any) -> None:
    spec = app.openapi()
    seen = {"name": 0, "label": 0}
    for _, path, op in operations(spec):
        for param in op.get("parameters", []):
            if param["in"] != "path" or param["name"] not in seen:
                continue
            if not path.startswith(("/v1/prompts", "/v1/datasets", "/v1/suites", "/v1/policies")):
                continue
            pattern = param["schema"]["pattern"]
            rule = NAME_RE if param["name"] == "name" else LABEL_RE
            assert pattern == rf"^(?:{rule.pattern})$"
            assert re.fullmatch(pattern[1:-1], "production") is not None
            seen[param["name"]] += 1
    assert seen["name"] > 10
    assert seen["label"] > 3


def test_every_reference_resolves(app: Any) -> None:
    # A dangling $ref (FastAPI's 422 on a route whose schema was removed) breaks ReDoc.
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs
    prefix = "#/components/schemas/"
    assert all(r.startswith(prefix) for r in refs), sorted(set(refs))
    assert {r.removeprefix(prefix) for r in refs} <= set(schemas)
