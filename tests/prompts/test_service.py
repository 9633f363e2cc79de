from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from promptlane_client.errors import InvalidTemplateError
from prompts import labels, service
from prompts.errors import (
    InvalidPromptError,
    LabelNotFoundError,
    LabelProtectedError,
    PromptExistsError,
    PromptNotFoundError,
    VersionNotFoundError,
)
from prompts.policy import ProtectedLabels
from prompts.schemas import LabelMove, PromptCreate, PromptUpdate, RenderRequest
from tests.conftest import ADMIN, WRITER
from tests.factories import chat_version, text_version

POLICY = ProtectedLabels(frozenset({"production"}))


async def publish(session: AsyncSession, name: str = "support/triage", **kw: object) -> int:
    version, _ = await service.publish_version(
        session, name=name, data=chat_version(**kw), author="tests"
    )
    return version.version


async def test_publish_creates_prompt_and_numbers_versions(session: AsyncSession) -> None:
    first, created = await service.publish_version(
        session, name="a/b", data=chat_version(), author="ann"
    )
    assert created
    assert first.version == 1
    assert first.variables == ["company", "ticket"]
    assert first.author == "ann"
    assert len(first.content_hash) == 64
    second, created = await service.publish_version(
        session, name="a/b", data=chat_version(config={"model": "x/y"}), author="ann"
    )
    assert created
    assert second.version == 2
    prompt = await service.get_prompt(session, name="a/b")
    assert prompt.latest_version == 2


async def test_identical_content_returns_existing_version(session: AsyncSession) -> None:
    first, _ = await service.publish_version(
        session, name="p", data=chat_version(message="one"), author="a"
    )
    again, created = await service.publish_version(
        session, name="p", data=chat_version(message="other message"), author="b"
    )
    assert not created
    assert again.version == first.version
    assert again.content_hash == first.content_hash
    assert again.message == "one"  # the stored version is immutable


async def test_content_hash_ignores_unset_config_fields(session: AsyncSession) -> None:
    a, _ = await service.publish_version(
        session, name="p", data=text_version(config={"model": "m"}), author="a"
    )
    b, created = await service.publish_version(
        session, name="p", data=text_version(config={"model": "m", "stop": None}), author="a"
    )
    assert not created
    assert a.version == b.version


async def test_returning_to_earlier_content_returns_earlier_version(session: AsyncSession) -> None:
    assert await publish(session, config={"model": "a/1"}) == 1
    assert await publish(session, config={"model": "a/2"}) == 2
    assert await publish(session, config={"model": "a/1"}) == 1


@pytest.mark.parametrize(
    "name",
    ["UPPER", "has space", "/lead", "trail/", "a//b", "a/versions", "labels", "x" * 201, ""],
)
async def test_bad_names_refused_and_nothing_stored(session: AsyncSession, name: str) -> None:
    with pytest.raises(InvalidPromptError):
        await service.publish_version(session, name=name, data=chat_version(), author="a")
    assert (await service.list_prompts(session)).total == 0


async def test_bad_template_refused_and_nothing_stored(session: AsyncSession) -> None:
    bad = text_version(template="{{ ''.__class__ }}", template_format="jinja2")
    with pytest.raises(InvalidTemplateError):
        await service.publish_version(session, name="p", data=bad, author="a")
    assert (await service.list_prompts(session)).total == 0


async def test_template_size_limit(session: AsyncSession) -> None:
    limits = service.PromptLimits(max_template_chars=10)
    with pytest.raises(InvalidPromptError) as err:
        await service.publish_version(
            session, name="p", data=text_version(template="x" * 11), author="a", limits=limits
        )
    assert err.value.errors[0].pointer == "#/template"


async def test_resolve_by_label_latest_and_number(session: AsyncSession) -> None:
    await publish(session, config={"model": "a/1"})
    await publish(session, config={"model": "a/2"})
    with pytest.raises(LabelNotFoundError):
        await service.resolve_prompt(session, name="support/triage")
    await labels.move_label(
        session,
        name="support/triage",
        label="production",
        move=LabelMove(version=1),
        actor=ADMIN,
        policy=POLICY,
    )
    prod = await service.resolve_prompt(session, name="support/triage")
    assert (prod.version, prod.labels) == (1, ["production"])
    latest = await service.resolve_prompt(session, name="support/triage", label="latest")
    assert latest.version == 2
    assert (await service.resolve_prompt(session, name="support/triage", version=2)).version == 2
    with pytest.raises(VersionNotFoundError):
        await service.resolve_prompt(session, name="support/triage", version=3)
    with pytest.raises(PromptNotFoundError):
        await service.resolve_prompt(session, name="nope")


async def test_label_moves_are_audited_and_rollback_is_a_move(session: AsyncSession) -> None:
    await publish(session, config={"model": "a/1"})
    await publish(session, config={"model": "a/2"})
    name = "support/triage"
    for version, reason in ((1, "first"), (2, "upgrade"), (1, "rollback")):
        await labels.move_label(
            session,
            name=name,
            label="staging",
            move=LabelMove(version=version, reason=reason),
            actor=WRITER,
            policy=POLICY,
        )
    history = await labels.label_history(session, name=name, label="staging")
    assert [(e.from_version, e.to_version, e.reason) for e in history.items] == [
        (2, 1, "rollback"),
        (1, 2, "upgrade"),
        (None, 1, "first"),
    ]
    assert {e.actor for e in history.items} == {"writer"}
    listed = await labels.list_labels(session, name=name)
    assert [(lb.name, lb.version) for lb in listed] == [("staging", 1)]


async def test_moving_to_the_same_version_records_nothing(session: AsyncSession) -> None:
    await publish(session)
    move = LabelMove(version=1, reason="again")
    first = await labels.move_label(
        session, name="support/triage", label="staging", move=move, actor=WRITER, policy=POLICY
    )
    second = await labels.move_label(
        session, name="support/triage", label="staging", move=move, actor=WRITER, policy=POLICY
    )
    assert first.id == second.id
    assert (await labels.label_history(session, name="support/triage", label="staging")).total == 1


async def test_protected_label_needs_admin(session: AsyncSession) -> None:
    await publish(session)
    with pytest.raises(LabelProtectedError):
        await labels.move_label(
            session,
            name="support/triage",
            label="production",
            move=LabelMove(version=1),
            actor=WRITER,
            policy=POLICY,
        )
    assert await labels.list_labels(session, name="support/triage") == []
    event = await labels.move_label(
        session,
        name="support/triage",
        label="production",
        move=LabelMove(version=1),
        actor=ADMIN,
        policy=POLICY,
    )
    assert event.to_version == 1
    assert not event.is_forced


@pytest.mark.parametrize("label", ["latest", "Bad Label", "x" * 65])
async def test_bad_labels_refused(session: AsyncSession, label: str) -> None:
    await publish(session)
    with pytest.raises(InvalidPromptError):
        await labels.move_label(
            session,
            name="support/triage",
            label=label,
            move=LabelMove(version=1),
            actor=ADMIN,
            policy=POLICY,
        )


async def test_render_uses_the_selected_version(session: AsyncSession) -> None:
    await publish(session)
    rendered = await service.render_version(
        session,
        name="support/triage",
        request=RenderRequest(label="latest", variables={"company": "ACME", "ticket": "help"}),
    )
    assert rendered.messages == [
        {"role": "system", "content": "You triage tickets for ACME."},
        {"role": "user", "content": "help"},
    ]
    assert rendered.config == {"model": "openai/gpt-4o-mini", "temperature": 0.0, "max_tokens": 64}


async def test_diff(session: AsyncSession) -> None:
    await publish(session)
    await publish(
        session,
        messages=[
            {"role": "system", "content": "You triage tickets for {{company}} in {{lang}}."},
            {"role": "user", "content": "{{ticket}}"},
        ],
        config={"model": "openai/gpt-4o", "temperature": 0.0, "seed": 7},
    )
    diff = await service.diff_versions(session, name="support/triage", from_version=1, to_version=2)
    assert "-You triage tickets for {{company}}." in diff.template_diff
    assert "+You triage tickets for {{company}} in {{lang}}." in diff.template_diff
    changes = {c.path: (c.change, c.before, c.after) for c in diff.changes}
    assert changes == {
        "config.model": ("changed", "openai/gpt-4o-mini", "openai/gpt-4o"),
        "config.max_tokens": ("removed", 64, None),
        "config.seed": ("added", None, 7),
    }
    assert diff.variables_added == ["lang"]
    assert diff.variables_removed == []


async def test_create_update_list_prompts(session: AsyncSession) -> None:
    await service.create_prompt(
        session, data=PromptCreate(name="team/a", description="Alpha summariser", tags=["x", "y"])
    )
    with pytest.raises(PromptExistsError):
        await service.create_prompt(session, data=PromptCreate(name="team/a"))
    await publish(session, name="team/b")
    await labels.move_label(
        session,
        name="team/b",
        label="staging",
        move=LabelMove(version=1),
        actor=WRITER,
        policy=POLICY,
    )
    await service.update_prompt(session, name="team/b", data=PromptUpdate(tags=["y"]))
    all_ = await service.list_prompts(session)
    assert [p.name for p in all_.items] == ["team/a", "team/b"]
    assert [p.name for p in (await service.list_prompts(session, tag="x")).items] == ["team/a"]
    assert [p.name for p in (await service.list_prompts(session, tag="y")).items] == [
        "team/a",
        "team/b",
    ]
    assert [p.name for p in (await service.list_prompts(session, label="staging")).items] == [
        "team/b"
    ]
    assert [p.name for p in (await service.list_prompts(session, query="ALPHA")).items] == [
        "team/a"
    ]
    page = await service.list_prompts(session, limit=1, offset=1)
    assert page.total == 2
    assert [p.name for p in page.items] == ["team/b"]
