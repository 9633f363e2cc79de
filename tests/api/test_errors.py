"""Every domain error maps to a 4xx/5xx other than 500, and renders as problem JSON."""

from __future__ import annotations

import json

import pytest

from api.server.errors import DOMAIN_ERROR_ROOTS, problem_response, problem_type, status_for


def _all_subclasses(root: type[Exception]) -> list[type[Exception]]:
    found: list[type[Exception]] = []
    stack = [root]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


ERRORS = sorted(
    {
        cls
        for root in DOMAIN_ERROR_ROOTS
        for cls in _all_subclasses(root)
        if cls not in DOMAIN_ERROR_ROOTS
    },
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("error", ERRORS, ids=lambda c: c.__name__)
def test_every_domain_error_has_a_status(error: type[Exception]) -> None:
    status = status_for(error)
    assert status is not None, f"{error.__name__} would fall through to 500"
    # Only a failing upstream model is the gateway's fault (502/504); the rest are the client's.
    assert 400 <= status < 500 or status in (502, 504)
    assert problem_type(error).startswith("urn:promptlane:problem:")


def test_problem_document_shape() -> None:
    response = problem_response(409, detail="d", errors=[{"pointer": "#/x", "detail": "bad"}])
    assert response.media_type == "application/problem+json"
    body = json.loads(bytes(response.body))
    assert body == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "d",
        "errors": [{"pointer": "#/x", "detail": "bad"}],
    }
