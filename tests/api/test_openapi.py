"""The OpenAPI document says what the API answers: problem JSON errors and the name rules."""

from __future__ import annotations

import re
from typing import Any

from prompts.schemas import LABEL_RE, NAME_RE

PROBLEMS = {"400", "401", "403", "404", "409", "413", "422", "503"}


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
        for status in PROBLEMS:
            content = op["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }


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
