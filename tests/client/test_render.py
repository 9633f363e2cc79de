from __future__ import annotations

from typing import Any

import pytest

from promptlane_client.errors import (
    InvalidTemplateError,
    InvalidVariablesError,
    MissingVariablesError,
    RenderError,
)
from promptlane_client.render import (
    Message,
    PromptContent,
    content_variables,
    render_prompt,
    render_template,
    required_variables,
    template_variables,
)


def chat(*messages: tuple[str, str], fmt: str = "mustache", **kw: Any) -> PromptContent:
    return PromptContent(
        kind="chat",
        template_format=fmt,  # type: ignore[arg-type]
        messages=tuple(Message(role, content) for role, content in messages),
        **kw,
    )


class TestMustache:
    def test_does_not_html_escape(self) -> None:
        out = render_template("Q: {{q}}", "mustache", {"q": "<b>&'\"</b>"})
        assert out == "Q: <b>&'\"</b>"

    def test_missing_variable_is_an_error_listing_all_missing(self) -> None:
        content = chat(("system", "{{a}} {{b}}"), ("user", "{{c}}"))
        with pytest.raises(MissingVariablesError) as err:
            render_prompt(content, {"b": 1})
        assert err.value.missing == ("a", "c")
        assert [p.pointer for p in err.value.errors] == ["#/variables/a", "#/variables/c"]

    def test_variables_in_first_use_order_top_level_only(self) -> None:
        template = "{{b}} {{#items}}{{name}} {{/items}}{{^empty}}none{{/empty}} {{a.x}} {{b}}"
        assert template_variables(template, "mustache") == ["b", "items", "empty", "a"]

    def test_sections_lists_and_nested_names(self) -> None:
        template = "{{#docs}}- {{title}}: {{.}}\n{{/docs}}{{user.name}}"
        out = render_template(
            template, "mustache", {"docs": [{"title": "t"}], "user": {"name": "n"}}
        )
        assert out.startswith("- t: ")
        assert out.endswith("n")

    def test_json_style_values(self) -> None:
        out = render_template(
            "{{n}} {{t}} {{f}} {{none}} {{obj}} {{arr}}",
            "mustache",
            {"n": 1.5, "t": True, "f": False, "none": None, "obj": {"k": "é"}, "arr": [1]},
        )
        assert out == '1.5 true false  {"k": "é"} [1]'

    def test_variable_values_are_not_templates(self) -> None:
        out = render_template("{{a}}", "mustache", {"a": "{{b}}", "b": "secret"})
        assert out == "{{b}}"

    @pytest.mark.parametrize(
        "template",
        [
            "{{> /etc/passwd}}",  # partials would read files
            "{{x.__class__}}",  # attribute walking into Python internals
            "{{_private}}",
            "{{#a}}unclosed",
            "{{/a}}",
        ],
    )
    def test_injection_and_syntax_refused(self, template: str) -> None:
        with pytest.raises(InvalidTemplateError):
            template_variables(template, "mustache")

    def test_missing_name_inside_section_is_a_render_error(self) -> None:
        with pytest.raises(RenderError):
            render_template("{{#xs}}{{y}}{{/xs}}", "mustache", {"xs": [{}]})


class TestJinja2:
    def test_renders_with_logic_and_no_escaping(self) -> None:
        template = "{% for d in docs %}{{ loop.index }}. {{ d | upper }}\n{% endfor %}<{{ q }}>"
        out = render_template(template, "jinja2", {"docs": ["a", "b"], "q": "&"})
        assert out == "1. A\n2. B\n<&>"

    def test_variables_exclude_locally_set_names(self) -> None:
        template = "{% set x = 1 %}{{ x }}{{ y }}{% for i in items %}{{ i }}{% endfor %}"
        assert template_variables(template, "jinja2") == ["items", "y"]

    @pytest.mark.parametrize(
        "template",
        [
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ x['__class__'] }}",
            "{% import 'os' as os %}",
            "{% include '/etc/passwd' %}",
            "{% extends 'base' %}",
            "{% for %}",
        ],
    )
    def test_injection_and_syntax_refused_at_publish(self, template: str) -> None:
        with pytest.raises(InvalidTemplateError):
            template_variables(template, "jinja2")

    @pytest.mark.parametrize(
        "template",
        [
            "{{ x|attr('__class__') }}",  # passes the static check; the sandbox stops it
            "{{ 'a' * 10000000 }}",
            "{{ 2 ** 100000 }}",
            "{{ x.y.z }}",
        ],
    )
    def test_sandbox_refuses_at_render(self, template: str) -> None:
        with pytest.raises(RenderError):
            render_template(template, "jinja2", {"x": "s"})


class TestContent:
    def test_text_prompt_renders_as_one_user_message(self) -> None:
        content = PromptContent(kind="text", template="Hi {{name}}")
        rendered = render_prompt(content, {"name": "Ada", "unused": 1})
        assert rendered.text == "Hi Ada"
        assert rendered.messages == [{"role": "user", "content": "Hi Ada"}]

    def test_chat_keeps_roles_and_names(self) -> None:
        content = PromptContent(
            kind="chat",
            messages=(Message("system", "S {{a}}"), Message("user", "U", name="bob")),
        )
        assert render_prompt(content, {"a": 1}).messages == [
            {"role": "system", "content": "S 1"},
            {"role": "user", "content": "U", "name": "bob"},
        ]

    def test_variables_union_over_messages(self) -> None:
        assert content_variables(chat(("system", "{{a}}{{b}}"), ("user", "{{b}}{{c}}"))) == [
            "a",
            "b",
            "c",
        ]

    def test_json_schema_checked_at_render(self) -> None:
        schema = {
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": 1}},
            "required": ["n"],
        }
        content = chat(("user", "{{n}}"), variables_schema=schema)
        assert render_prompt(content, {"n": 2}).messages[0]["content"] == "2"
        with pytest.raises(InvalidVariablesError) as err:
            render_prompt(content, {"n": "two"})
        assert err.value.errors[0].pointer == "#/variables/n"

    def test_same_output_for_same_input(self) -> None:
        content = chat(("user", "{{ a }}"), fmt="jinja2")
        assert render_prompt(content, {"a": "x"}) == render_prompt(content, {"a": "x"})


def text(template: str, fmt: str = "jinja2", **kw: Any) -> PromptContent:
    return PromptContent(kind="text", template=template, template_format=fmt, **kw)  # type: ignore[arg-type]


class TestOptionalVariables:
    """A variable is optional when the template guards every use or the schema does not require
    it; a truly missing one is still an error (issue 17, item 3)."""

    @pytest.mark.parametrize(
        ("template", "given", "expected"),
        [
            ('For {{ audience | default("engineers") }}.', {}, "For engineers."),
            ("For {{ audience | d('all') }}.", {"audience": "kids"}, "For kids."),
            ("A{% if tone is defined %} in {{ tone }}{% endif %}.", {}, "A."),
            ("A{% if tone is defined %} in {{ tone }}{% endif %}.", {"tone": "x"}, "A in x."),
            ("{% if t is undefined %}none{% else %}{{ t }}{% endif %}", {}, "none"),
            ("{{ t if t is defined else 'none' }}", {}, "none"),
            ("{% if a is defined and b %}{{ a }}{% else %}-{% endif %}", {"b": 0}, "-"),
            ("{% if a is defined %}{{ a }}{% elif c is defined %}{{ c }}{% endif %}", {}, ""),
        ],
    )
    def test_guarded_uses_are_optional(
        self, template: str, given: dict[str, Any], expected: str
    ) -> None:
        assert render_prompt(text(template), given).text == expected

    @pytest.mark.parametrize(
        ("template", "missing"),
        [
            ('{{ audience }} {{ audience | default("x") }}', ["audience"]),  # one bare use
            ("{% if tone %}{{ tone }}{% endif %}", ["tone"]),  # truthiness is not definedness
            ("{% if a is defined and b %}{{ a }}{% endif %}", ["b"]),
            ("{% if a is defined or b %}{{ a }}{% endif %}", ["a", "b"]),  # `or` guards nothing
            ("{% if a is defined %}x{% else %}{{ a }}{% endif %}", ["a"]),
            ("{{ y | default(q) }}", ["q"]),  # the default's own argument is needed
            ("{{ a.b | default(1) }}", ["a"]),  # only a bare name can be undefined safely
        ],
    )
    def test_unguarded_uses_are_required(self, template: str, missing: list[str]) -> None:
        with pytest.raises(MissingVariablesError) as err:
            render_prompt(text(template), {})
        assert list(err.value.missing) == missing

    def test_variables_still_lists_optional_ones(self) -> None:
        content = text('{{ a | default("x") }}{{ b }}')
        assert content_variables(content) == ["a", "b"]
        assert required_variables(content) == ["b"]

    def test_schema_leaves_a_variable_optional(self) -> None:
        schema = {
            "type": "object",
            "properties": {"name": {"type": "string"}, "level": {"type": "integer"}},
            "required": ["name"],
        }
        mustache = text("Hi {{name}}{{#level}} L{{level}}{{/level}}!", "mustache")
        content = PromptContent(kind="text", template=mustache.template, variables_schema=schema)
        assert render_prompt(content, {"name": "Ada"}).text == "Hi Ada!"  # mustache: empty
        assert render_prompt(content, {"name": "Ada", "level": 2}).text == "Hi Ada L2!"
        with pytest.raises(MissingVariablesError, match=r"^missing variables: name$"):
            render_prompt(content, {"level": 2})
        jinja = text("Hi {{ name }} {{ level }}", variables_schema=schema)
        with pytest.raises(RenderError, match=r"'level' is undefined.*default"):
            render_prompt(jinja, {"name": "Ada"})  # an optional variable used bare: say how

    def test_schema_defaults_fill_left_out_variables(self) -> None:
        schema = {
            "type": "object",
            "properties": {"audience": {"type": "string", "default": "engineers"}},
        }
        for fmt in ("mustache", "jinja2"):
            content = text("For {{audience}}.", fmt, variables_schema=schema)
            assert render_prompt(content, {}).text == "For engineers."
            assert render_prompt(content, {"audience": "kids"}).text == "For kids."

    def test_a_schema_without_properties_makes_nothing_optional(self) -> None:
        content = text("{{ a }}", variables_schema={"type": "object", "required": []})
        with pytest.raises(MissingVariablesError):
            render_prompt(content, {})

    def test_given_values_are_still_checked_against_the_schema(self) -> None:
        schema = {"type": "object", "properties": {"n": {"type": "integer", "default": 1}}}
        content = text("{{ n }}", variables_schema=schema)
        with pytest.raises(InvalidVariablesError):
            render_prompt(content, {"n": "two"})
