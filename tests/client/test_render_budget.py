"""The render budget's output limit and the sandbox's bounds on amplifying operations."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from promptlane_client.errors import RenderBudgetError, RenderError
from promptlane_client.render import (
    Message,
    PromptContent,
    RenderBudget,
    render_prompt,
    render_template,
)

SMALL = RenderBudget(max_chars=1_000)


def text(template: str, fmt: str = "jinja2") -> PromptContent:
    return PromptContent(kind="text", template_format=fmt, template=template)  # type: ignore[arg-type]


def refused(template: str, variables: dict[str, Any] | None = None) -> RenderBudgetError:
    with pytest.raises(RenderBudgetError) as err:
        render_prompt(text(template), variables or {})
    assert err.value.limit == "max_chars"
    return err.value


class TestOutputLimit:
    def test_jinja_output_over_the_limit_names_it(self) -> None:
        with pytest.raises(RenderBudgetError) as err:
            render_prompt(text("{% for i in range(2000) %}x{% endfor %}"), {}, SMALL)
        assert err.value.detail == "the rendered prompt is longer than 1000 characters"
        assert err.value.limit == "max_chars"
        assert isinstance(err.value, RenderError)  # a 422 like every render error

    def test_output_at_the_limit_renders(self) -> None:
        rendered = render_prompt(text("{% for i in range(1000) %}x{% endfor %}"), {}, SMALL)
        assert rendered.text == "x" * 1000

    def test_forty_megabytes_are_refused_by_default(self) -> None:
        error = refused("{% for i in range(40000) %}{{ 'x' * 1000 }}{% endfor %}")
        assert "longer than 1000000 characters" in error.detail

    def test_the_limit_counts_every_message_of_a_chat_prompt(self) -> None:
        content = PromptContent(
            kind="chat", messages=(Message("system", "{{a}}"), Message("user", "{{a}}"))
        )
        assert render_prompt(content, {"a": "x" * 500}, SMALL).messages[1]["content"]
        with pytest.raises(RenderBudgetError):
            render_prompt(content, {"a": "x" * 501}, SMALL)

    @pytest.mark.parametrize(
        "template",
        [
            "{{a}}" * 30,  # linear: one long value many times, refused before pystache joins
            "{{{a}}}" * 30,
            "{{#xs}}{{a}}{{/xs}}",
            "{{#xs}}" + "literal text " * 10 + "{{/xs}}",  # the section's own text repeated
        ],
    )
    def test_mustache_output_is_counted_as_it_is_built(self, template: str) -> None:
        variables = {"a": "y" * 100, "xs": list(range(100))}
        with pytest.raises(RenderBudgetError):
            render_prompt(text(template, "mustache"), variables, SMALL)

    def test_mustache_within_the_limit_is_unchanged(self) -> None:
        template = "Hi {{name}}!{{#xs}} [{{.}}]{{/xs}}{{^none}} none{{/none}}"
        out = render_prompt(
            text(template, "mustache"), {"name": "Ada", "xs": [1, 2], "none": []}, SMALL
        )
        assert out.text == "Hi Ada! [1] [2] none"

    def test_render_template_alone_counts_against_a_budget(self) -> None:
        with pytest.raises(RenderBudgetError):
            render_template("{{a}}{{a}}", "mustache", {"a": "x" * 600}, SMALL)


# Each would build gigabytes in one C call (or exponentially many), before any output check.
AMPLIFIERS = [
    "{{ 'a'|center(1000000000) }}",
    "{{ 'a'.center(1000000000) }}",
    "{{ 'a'.ljust(1000000000) }}",
    "{{ 'a'.rjust(1000000000, '-') }}",
    "{{ 'a'.zfill(1000000000) }}",
    "{{ ('\t' * 1000).expandtabs(1000000) }}",
    "{{ ('\n' * 10000)|indent(100000, true, true) }}",
    "{{ ('x' * 10000)|replace('', 'y' * 1000) }}",
    "{{ ('x' * 10000).replace('x', 'y' * 1000) }}",
    "{{ ('a ' * 20000)|wordwrap(1, wrapstring='-' * 100) }}",
    "{{ '%1000000000d'|format(1) }}",
    "{{ '%*d'|format(1000000000, 1) }}",
    "{{ '%1000000000d' % 1 }}",
    "{{ '%.1000000000f' % 1.5 }}",
    "{{ '{:>1000000000}'.format(1) }}",
    "{{ '{:>{w}}'.format(1, w=1000000000) }}",
    "{{ '{x:>1000000000}'.format_map({'x': 1}) }}",
    "{% set l = ['x' * 50000] * 10000 %}{{ l|join }}",
    "{% set l = ['x' * 50000] * 10000 %}{{ ''.join(l) }}",
    "{{ ('x' * 10000).translate({120: 'y' * 10000}) }}",
    "{{ (1).to_bytes(1000000000, 'big')|length }}",
    "{{ lipsum(1000000) }}",
    "{% set l = [[[[[1]]]]] * 1000 %}{{ l|tojson(1000000) }}",
    "{% set l = [[1] * 1000] * 1000 %}{{ l|sum(start=[])|length }}",
    "{{ range(100000)|map('center', 999999)|list|length }}",
    # Doubling: each step is small, the twentieth is a megabyte, the fortieth a terabyte.
    "{% set ns = namespace(x='x' * 1000) %}{% for i in range(40) %}"
    "{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x|length }}",
    "{% set ns = namespace(x='x' * 1000) %}{% for i in range(40) %}"
    "{% set ns.x = ns.x + ns.x %}{% endfor %}{{ ns.x|length }}",
    "{% set ns = namespace(x=['x' * 1000]) %}{% for i in range(40) %}"
    "{% set ns.x = [ns.x, ns.x] %}{% endfor %}{{ ns.x == ns.x }}",
    "{% set ns = namespace(x=('x' * 1000,)) %}{% for i in range(40) %}"
    "{% set ns.x = (ns.x, ns.x) %}{% endfor %}{{ 1 }}",
    "{% set ns = namespace(x={'k': 'x' * 1000}) %}{% for i in range(40) %}"
    "{% set ns.x = {'a': ns.x, 'b': ns.x} %}{% endfor %}{{ 1 }}",
    "{% set ns = namespace(x=['x' * 1000]) %}{% for i in range(40) %}"
    "{% set ns.x = dict(a=ns.x, b=ns.x) %}{% endfor %}{{ 1 }}",
    "{% set a = ['x' * 1000] %}{{ {}.fromkeys(range(10000), a)|length }}",
    # A block or macro whose output is kept rather than rendered.
    "{% set y %}{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}{% endset %}{{ 1 }}",
    "{% macro m() %}{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}{% endmacro %}"
    "{% set y = m() %}{{ 1 }}",
    # Many bounded values kept at once: the work limit bounds memory within the time limit.
    "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
    "{% set ns.l = ns.l + [('x' * 99999)[i:] ~ i] %}{% endfor %}{{ 1 }}",
]


class TestAmplifiers:
    @pytest.mark.parametrize("template", AMPLIFIERS)
    def test_refused_before_the_value_exists(self, template: str) -> None:
        refused(template)

    @pytest.mark.parametrize(
        "template",
        [
            "{{ ((10 ** 1000) ** 1000) ** 1000 }}",  # C-level big-int work, not interruptible
            "{% set ns = namespace(x=10 ** 999) %}{% for i in range(30) %}"
            "{% set ns.x = ns.x * ns.x %}{% endfor %}{{ 1 }}",
            "{{ [1]|batch(1000000000, 0)|list|length }}",
        ],
    )
    def test_refused_by_the_sandbox(self, template: str) -> None:
        with pytest.raises(RenderError, match="sandbox"):
            render_prompt(text(template), {})

    def test_printing_a_container_that_repeats_itself_is_refused(self) -> None:
        variables = {"a": ["x" * 10_000] * 50}  # JSON can't share, but a caller's dict can
        refused("{{ [a, a, a, a] }}", variables)

    def test_deep_recursion_is_a_render_error(self) -> None:
        with pytest.raises(RenderError, match="recurses or nests too deeply"):
            render_prompt(text("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), {})

    def test_template_mistakes_are_render_errors(self) -> None:
        with pytest.raises(RenderError):
            render_prompt(text("{{ xs|indent }}"), {"xs": [1]})


# Templates an honest prompt uses: rendered exactly as stock Jinja2's sandbox renders them.
CORPUS = [
    "{{ name|center(11) }}|{{ name.ljust(7, '.') }}|{{ name.zfill(6) }}|{{ 'a\tb'.expandtabs(4) }}",
    "{{ doc|indent(2, true) }}|{{ doc|wordwrap(5) }}|{{ doc|wordwrap(4, wrapstring='<br>') }}",
    "{{ doc|replace('o', '0') }}|{{ doc.replace('o', '00', 1) }}|{{ doc|truncate(9) }}",
    "{{ '%5.2f|%-4s'|format(3.14159, 'ab') }}|{{ '%(n)s!'|format(n=name) }}"
    "{{ '%*d'|format(4, 7) }}",
    "{{ '%(n)03d' % {'n': 7} }}|{{ '{:>6}|{:.3}|{!r}'.format(name, 2 / 3, name) }}",
    "{{ '{n}-{m}'.format_map({'n': 1, 'm': 2}) }}|{{ '%s and %s' % (1, [2, 3]) }}",
    "{{ tags|join(', ') }}|{{ ', '.join(tags) }}|{{ docs|join('; ', attribute='t') }}",
    "{{ [1, 2] + [3] }}|{{ (1, 2) }}|{{ {'k': [1, 'x']} }}|{{ 'a' ~ 1 ~ none ~ [2] }}",
    "{{ nums|sum }}|{{ [[1], [2, 3]]|sum(start=[]) }}|{{ docs|sum(attribute='n') }}",
    "{{ nums|batch(2, 0)|list }}|{{ nums|slice(2)|list }}|{{ docs|tojson }}|{{ docs|tojson(2) }}",
    "{{ docs|pprint }}|{{ nums|string }}|{{ 2 ** 10 }}|{{ 7 * 6 }}|{{ 'ab' * 3 }}|{{ 7 % 3 }}",
    "{% set ns = namespace(s='') %}{% for t in tags %}{% set ns.s = ns.s ~ t %}{% endfor %}"
    "{{ ns.s }}|{{ dict(a=1, b=[2]) }}|{{ {}.fromkeys(tags, 0) }}",
    "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m(1) }}{% set b %}[{{ name }}]{% endset %}{{ b }}"
    "{% filter upper %}{{ name }} shout{% endfilter %}",
    "{% for a, b in {'y': 2}|dictsort %}{{ a }}{{ b }}{% endfor %}"
    "{% for k, v in {'x': 1}.items() %}{{ k }}={{ v }}{% endfor %}"
    "{{ name[1:3] }}{{ tags[::-1] }}{{ (1).to_bytes(2, 'big') }}",
    "{{ name|upper|lower|title|capitalize|trim|urlencode }}|{{ doc|wordcount }}|{{ 'x'|e }}"
    "{{ name.translate({65: 'aa'}) }}|{{ nums|map('string')|join }}|{{ tags|first }}",
    "{% autoescape true %}{{ '<b>' ~ name }}{{ '<i>%s</i>' % name }}{% endautoescape %}",
]
VARIABLES: dict[str, Any] = {
    "name": "Ada<>",
    "doc": "one two three\nfour five six seven",
    "tags": ["a", "b&c", "d"],
    "nums": [1, 2, 3, 4, 5],
    "docs": [{"t": "x", "n": 1}, {"t": "y", "n": 2}],
}
STOCK = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
)


@pytest.mark.parametrize("template", CORPUS)
def test_normal_templates_render_as_stock_jinja2(template: str) -> None:
    expected = STOCK.from_string(template).render(VARIABLES)
    assert render_template(template, "jinja2", VARIABLES) == expected


def test_lipsum_is_still_markup_text() -> None:
    out = render_template("{{ lipsum(2, html=false, min=5, max=6) }}", "jinja2", {})
    assert len(out.split("\n\n")) == 2
