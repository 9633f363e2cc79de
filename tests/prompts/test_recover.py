"""Recovering a version's variables from the messages it rendered (prompts.recover)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptlane_client.render import Message, PromptContent, render_prompt
from prompts import recover as recovering
from prompts.recover import recover, recover_variables

TRIAGE = PromptContent(
    kind="chat",
    messages=(
        Message("system", "You triage tickets for {{company}}."),
        Message("user", "{{{ticket}}}\n(from {{company}})"),
    ),
)


def text(template: str, **fields: Any) -> PromptContent:
    return PromptContent(kind="text", template=template, **fields)


def rendered(content: PromptContent, variables: dict[str, Any]) -> list[dict[str, str]]:
    return render_prompt(content, variables).messages


def reason(content: PromptContent, messages: list[dict[str, Any]]) -> str:
    found = recover(content, messages)
    assert found.variables is None
    assert found.reason is not None
    return found.reason


def test_a_chat_version_gives_back_its_variables() -> None:
    variables = {"company": "Acme", "ticket": "My card, {{twice}} & <b>charged</b>."}
    found = recover(TRIAGE, rendered(TRIAGE, variables))
    assert found.variables == variables
    assert found.reason is None


def test_a_text_version_with_comments_and_a_name_used_twice() -> None:
    content = text("{{! a note }}Hi {{ name }}, {{greeting}}, {{name}}!")
    messages = rendered(content, {"name": "Ann, Bo", "greeting": "welcome, friend"})
    # Without the repeated name the split would be ambiguous; with it, it is unique.
    assert recover_variables(content, messages) == {
        "name": "Ann, Bo",
        "greeting": "welcome, friend",
    }


def test_a_schema_typed_variable_is_recovered_with_its_type() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}}}
    content = text("{{n}} items for {{s}}", variables_schema=schema)
    assert recover_variables(content, rendered(content, {"n": 3, "s": "4"})) == {"n": 3, "s": "4"}


@pytest.mark.parametrize(
    ("content", "messages", "expected"),
    [
        (
            PromptContent(kind="text", template="Hi {{name}}", template_format="jinja2"),
            [{"role": "user", "content": "Hi Ann"}],
            "only mustache templates are inverted",
        ),
        (text("{{#items}}- {{.}}{{/items}}"), [{"role": "user", "content": "- a"}], "sections"),
        (text("Hi {{user.name}}"), [{"role": "user", "content": "Hi Ann"}], "dotted name"),
        (text("{{a}}{{b}}"), [{"role": "user", "content": "xy"}], "more than one way"),
        (text("Hi {{a}}."), [{"role": "user", "content": "Bye Ann."}], "does not match"),
        (text("Hi {{a}}"), [{"role": "system", "content": "Hi"}], "not 'user'"),
        (text("Hi {{a}}"), [{"role": "user", "content": ["Hi"]}], "not all text"),
        (
            text("Hi {{a}}"),
            [{"role": "user", "content": "Hi x"}, {"role": "user", "content": "more"}],
            "1 message(s) after the version's own",
        ),
        (TRIAGE, [{"role": "system", "content": "You triage tickets for A."}], "renders 2"),
    ],
    ids=["jinja2", "section", "dotted", "ambiguous", "mismatch", "role", "parts", "extra", "fewer"],
)
def test_what_cannot_be_recovered_says_why(
    content: PromptContent, messages: list[dict[str, Any]], expected: str
) -> None:
    assert expected in reason(content, messages)


def test_a_message_name_the_store_lost_is_not_reproduced() -> None:
    content = PromptContent(kind="chat", messages=(Message("user", "Hi {{a}}", name="bot"),))
    stored = [{"role": "user", "content": "Hi Ann"}]  # as OTLP ingest keeps it: no name
    assert "does not reproduce" in reason(content, stored)
    assert recover_variables(content, [{**stored[0], "name": "bot"}]) == {"a": "Ann"}


def test_a_schema_the_text_breaks_is_refused() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    content = text("n={{n}}", variables_schema=schema)
    assert "do not render" in reason(content, [{"role": "user", "content": "n=many"}])


def test_hostile_text_is_refused_within_the_step_budget() -> None:
    content = text("{{a}}X{{b}}Y{{a}}")
    hostile = [{"role": "user", "content": "Q" * 100_000 + "X" * 30_000}]
    began = time.perf_counter()
    assert "too many ways" in reason(content, hostile)
    assert time.perf_counter() - began < 2.0
    assert recovering.MAX_STEPS <= 20_000


# --- properties ------------------------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "c"])
TAGS = st.sampled_from(["{{%s}}", "{{{%s}}}", "{{ %s }}"])
PLAIN = st.text(alphabet="xy ,.\n", max_size=6)  # literal text: no braces, no separator
VALUES = st.text(alphabet="xy ,.\n{}é", max_size=8)


@st.composite
def templates(draw: st.DrawFn, *, separated: bool) -> tuple[str, list[str]]:
    """Return a mustache template (literals around 1-4 slots) and its slots' names."""
    names = draw(st.lists(NAMES, min_size=1, max_size=4))
    parts = [draw(PLAIN)]
    for i, name in enumerate(names):
        parts.append(draw(TAGS) % name)
        last = i + 1 == len(names)
        # Separated: each literal between two slots holds one '|', which no value holds.
        middle = draw(PLAIN) + "|" + draw(PLAIN) if separated and not last else draw(PLAIN)
        parts.append(middle)
    return "".join(parts), names


@st.composite
def cases(draw: st.DrawFn, *, separated: bool) -> tuple[PromptContent, dict[str, str]]:
    chat = draw(st.booleans())
    drawn = [draw(templates(separated=separated)) for _ in range(2 if chat else 1)]
    if chat:
        messages = tuple(
            Message(role, t) for role, (t, _) in zip(("system", "user"), drawn, strict=True)
        )
        content = PromptContent(kind="chat", messages=messages)
    else:
        content = text(drawn[0][0])
    names = {name for _, used in drawn for name in used}
    return content, {name: draw(VALUES) for name in sorted(names)}


@settings(max_examples=300, deadline=None)
@given(cases(separated=False))
def test_a_recovery_always_renders_the_stored_messages_again(
    case: tuple[PromptContent, dict[str, str]],
) -> None:
    content, variables = case
    messages = rendered(content, variables)
    found = recover_variables(content, messages)
    if found is not None:
        assert rendered(content, found) == messages


@settings(max_examples=300, deadline=None)
@given(cases(separated=True))
def test_unambiguous_text_gives_back_the_exact_variables(
    case: tuple[PromptContent, dict[str, str]],
) -> None:
    content, variables = case
    found = recover(content, rendered(content, variables))
    assert found.variables == variables, found.reason
