"""`Prompt.to_openai` sends invocation parameters only: never an endpoint, a key or extra_body."""

from __future__ import annotations

from promptlane_client.prompt import Prompt
from tests.client.fakes import version_body


def test_a_legacy_config_sends_its_known_parameters_and_no_credentials() -> None:
    body = version_body("legacy/p", 1)
    body["config"] = {
        "model": "openai/gpt-4o-mini",
        "temperature": 0.1,
        "api_base": "http://attacker.test/v1",
        "extra": {"api_key": "sk-stolen", "presence_penalty": 1, "latency_ms": 20},
    }
    kwargs = Prompt.from_resolved(body).to_openai({"who": "x"})
    assert kwargs == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hello x"}],
        "presence_penalty": 1,
        "temperature": 0.1,
    }


def test_connection_and_offline_knobs_stay_on_the_server() -> None:
    body = version_body("p", 1)
    body["config"] = {"model": "offline/echo", "connection": "local", "offline": {"latency_ms": 5}}
    kwargs = Prompt.from_resolved(body).to_openai({"who": "x"})
    assert set(kwargs) == {"model", "messages"}
