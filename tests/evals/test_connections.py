"""Where a call goes: routing rules, the cached resolver, sealed keys, keys kept out of errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from api.db import Database
from evals.connections import service
from evals.connections.crypto import SecretBox, SecretKeyError, UndecryptableSecretError
from evals.connections.resolver import (
    NO_CONNECTIONS,
    ConnectionResolver,
    ResolvedConnection,
    StaticConnections,
    route,
)
from evals.connections.schemas import ConnectionCreate
from evals.errors import ModelCallError, ModelConfigurationError
from evals.llm.client import RetryPolicy, known_providers
from tests.conftest import DatabaseFactory
from tests.evals.fake_openai import FakeOpenAI, Step
from tests.evals.model_helpers import MESSAGES, ModelClients, Sleeps, connections, openai_config

OPENAI = ResolvedConnection("openai", "openai", "http://127.0.0.1:1/v1", "sk-k")
PROD = ResolvedConnection("prod", "openai", "http://127.0.0.1:2/v1", "sk-p")
CLAUDE = ResolvedConnection("claude", "anthropic", None, "sk-a")
SOURCE = StaticConnections([OPENAI, PROD, CLAUDE])


async def way(model: str, connection: str | None = None) -> tuple[str, str | None]:
    found = await route(SOURCE, model=model, connection=connection, providers=known_providers())
    return found.model, found.connection.name if found.connection else None


# --- routing rules ----------------------------------------------------------------------------


async def test_offline_models_need_no_connection() -> None:
    assert await way("offline/echo") == ("offline/echo", None)
    found = await route(NO_CONNECTIONS, model="offline/x", connection=None, providers=set())
    assert found.connection is None


async def test_the_versions_connection_wins_over_the_prefix() -> None:
    assert await way("openai/gpt-4o-mini", "prod") == ("openai/gpt-4o-mini", "prod")


async def test_the_prefix_names_the_connection_by_default() -> None:
    assert await way("openai/gpt-4o-mini") == ("openai/gpt-4o-mini", "openai")


async def test_a_bare_model_takes_the_connections_provider() -> None:
    assert await way("gpt-4o-mini", "prod") == ("openai/gpt-4o-mini", "prod")
    # A prefix that is no provider is part of the model's name.
    assert await way("meta-llama/llama-3", "prod") == ("openai/meta-llama/llama-3", "prod")


@pytest.mark.parametrize(
    ("model", "connection", "message"),
    [
        ("gpt-4o-mini", None, "names no connection"),
        (
            "anthropic/claude-3",
            None,
            "promptlane connections create anthropic --provider anthropic",
        ),
        ("openai/gpt-4o", "nowhere", "no connection named 'nowhere'"),
        ("anthropic/claude-3", "prod", "is a anthropic model but connection 'prod' is for openai"),
        ("openai/gpt-4o", "claude", "is for anthropic"),
    ],
)
async def test_anything_else_is_a_configuration_error(
    model: str, connection: str | None, message: str
) -> None:
    with pytest.raises(ModelConfigurationError, match=message):
        await way(model, connection)


async def test_a_connection_whose_key_cannot_be_used_says_why() -> None:
    broken = StaticConnections([ResolvedConnection("openai", "openai", problem="key not set")])
    with pytest.raises(ModelConfigurationError, match="connection 'openai': key not set"):
        await route(broken, model="openai/x", connection=None, providers=known_providers())


async def test_a_configuration_error_is_never_retried_nor_sent(
    fake_openai: FakeOpenAI, model_clients: ModelClients
) -> None:
    sleeps = Sleeps()
    client = model_clients(retry=RetryPolicy(attempts=4), sleep=sleeps)  # no connections at all
    with pytest.raises(ModelConfigurationError) as caught:
        await client.complete(messages=MESSAGES, config=openai_config())
    assert isinstance(caught.value, ModelCallError)
    assert caught.value.trace_id  # the failure is on the call's span
    assert sleeps.delays == []
    assert fake_openai.requests == []


# --- keys stay out of error text ----------------------------------------------------------------


@pytest.mark.parametrize("native", [True, False], ids=["native", "litellm"])
async def test_a_provider_that_echoes_the_key_does_not_put_it_in_the_error(
    fake_openai: FakeOpenAI, model_clients: ModelClients, native: bool
) -> None:
    secret = "sk-live-0123456789abcdef"
    fake_openai.script(Step.error(401, message=f"Incorrect API key provided: {secret}."))
    client = model_clients(
        retry=RetryPolicy(attempts=1),
        native=native,
        connections=connections(fake_openai, key=secret),
    )
    with pytest.raises(ModelCallError) as caught:
        await client.complete(messages=MESSAGES, config=openai_config())
    assert secret not in caught.value.detail
    assert secret not in str(caught.value)
    assert "[redacted]" in caught.value.detail


# --- sealed keys ---------------------------------------------------------------------------------


def test_a_sealed_key_opens_after_rotation_and_not_with_a_foreign_key() -> None:
    a, b = Fernet.generate_key(), Fernet.generate_key()
    sealed = SecretBox([a]).seal("sk-secret")
    assert "sk-secret" not in sealed
    rotated_box = SecretBox([b, a])
    assert rotated_box.open(sealed) == "sk-secret"
    resealed = rotated_box.rotate(sealed)
    assert SecretBox([b]).open(resealed) == "sk-secret"
    with pytest.raises(UndecryptableSecretError):
        SecretBox([b]).open(sealed)
    assert "keys hidden" in repr(rotated_box)


@pytest.mark.parametrize("key", [b"", b"short", b"x" * 44])
def test_a_bad_secret_key_is_refused(key: bytes) -> None:
    with pytest.raises(SecretKeyError, match="secret key 1 is not a Fernet key"):
        SecretBox([key])


# --- the database resolver ------------------------------------------------------------------------


@pytest.fixture
async def database(databases: DatabaseFactory) -> AsyncIterator[Database]:
    db = Database.from_url(databases.create())
    yield db
    await db.dispose()


async def test_the_resolver_opens_keys_caches_and_forgets_on_change(database: Database) -> None:
    box = SecretBox([Fernet.generate_key()])
    keyring = service.Keyring(box, frozenset({"OPENAI_API_KEY"}))
    body = {"name": "openai", "provider": "openai", "api_key": "sk-one", "gateway_models": ["m"]}
    async with database.transaction() as session:
        await service.create_connection(
            session, data=ConnectionCreate.model_validate(body), actor="t", keyring=keyring
        )
        env = ConnectionCreate.model_validate(
            {"name": "envy", "provider": "openai", "api_key_env": "OPENAI_API_KEY"}
        )
        await service.create_connection(session, data=env, actor="t", keyring=keyring)
    resolver = ConnectionResolver(
        database.reader, box=box, env={"OPENAI_API_KEY": "sk-env"}, ttl=3600
    )
    found = await resolver.get("openai")
    assert found is not None
    assert (found.api_key, found.gateway_models) == ("sk-one", ("m",))
    assert "sk-one" not in repr(found)
    assert (await resolver.get("envy")) == ResolvedConnection("envy", "openai", None, "sk-env")
    assert await resolver.for_gateway_model("m") == found
    async with database.transaction() as session:
        await session.execute(text("DELETE FROM connections WHERE name = 'openai'"))
    assert await resolver.get("openai") == found  # cached
    resolver.invalidate()
    assert await resolver.get("openai") is None
    assert await resolver.for_gateway_model("m") is None


async def test_an_unset_variable_or_a_lost_key_is_a_problem_not_a_fallback(
    database: Database,
) -> None:
    old = SecretBox([Fernet.generate_key()])
    keyring = service.Keyring(old, frozenset({"OPENAI_API_KEY"}))
    async with database.transaction() as session:
        for body in (
            {"name": "sealed", "provider": "openai", "api_key": "sk-old"},
            {"name": "envy", "provider": "openai", "api_key_env": "OPENAI_API_KEY"},
        ):
            data = ConnectionCreate.model_validate(body)
            await service.create_connection(session, data=data, actor="t", keyring=keyring)
    resolver = ConnectionResolver(database.reader, box=SecretBox([Fernet.generate_key()]), env={})
    sealed, envy = await resolver.get("sealed"), await resolver.get("envy")
    assert sealed is not None
    assert envy is not None
    assert (sealed.api_key, envy.api_key) == (None, None)
    assert sealed.problem is not None
    assert "cannot be decrypted" in sealed.problem
    assert (
        envy.problem == "its key variable OPENAI_API_KEY is not set (or not allowed) on this server"
    )
