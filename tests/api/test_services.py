"""The server's services: one frozen object on `app.state`, read through one dependency."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from fastapi import FastAPI

from api.server.services import Services

API = Path(__file__).resolve().parents[2] / "api"


def state_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (line, name) of every `<x>.state.<name>` and getattr/setattr on `<x>.state`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            if node.value.attr == "state":
                found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            target = node.args[0] if node.args else None
            if node.func.id in {"getattr", "setattr", "hasattr", "delattr"} and (
                isinstance(target, ast.Attribute) and target.attr == "state"
            ):
                found.append((node.lineno, f"{node.func.id}(...)"))
    return found


def test_api_keeps_nothing_on_app_state_but_the_services() -> None:
    others = [
        f"{path.relative_to(API.parent)}:{line}: .state.{name}"
        for path in sorted(API.rglob("*.py"))
        for line, name in state_reads(ast.parse(path.read_text(), str(path)))
        if name != "services"
    ]
    assert others == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("request.app.state.db", [(1, "db")]),
        ("self.state.services", [(1, "services")]),
        ("getattr(app.state, 'gateway', None)", [(1, "getattr(...)")]),
        ("app.state.x = 1", [(1, "x")]),
        ("state.completed", []),
    ],
)
def test_the_check_sees_every_way_to_reach_app_state(
    source: str, expected: list[tuple[int, str]]
) -> None:
    assert state_reads(ast.parse(source)) == expected


def test_the_services_are_built_once_and_frozen(app: FastAPI) -> None:
    services = app.state.services
    assert isinstance(services, Services)
    with pytest.raises(dataclasses.FrozenInstanceError):
        services.gateway = None
    assert services.gateway.evaluator is services.online_evaluator
    assert services.gateway.resolver is services.resolver
