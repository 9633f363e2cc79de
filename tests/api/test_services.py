"""The server's services: one frozen object on `app.state`, read through one dependency."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi import FastAPI

from api.server.services import Services


def test_the_services_are_built_once_and_frozen(app: FastAPI) -> None:
    services = app.state.services
    assert isinstance(services, Services)
    with pytest.raises(dataclasses.FrozenInstanceError):
        services.gateway = None
    assert services.gateway.evaluator is services.online_evaluator
    assert services.gateway.resolver is services.resolver
