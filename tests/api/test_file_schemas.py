"""The JSON Schemas of prompt, dataset and suite files: served, kept in the repository, and in
agreement with what the server accepts (issue 17, item 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from api.cli.prompt_files import PromptFileError, check_file
from api.server.file_schemas import FILE_SCHEMAS, render
from evals.datasets.files import parse_items
from evals.errors import InvalidDatasetError, InvalidSuiteError
from evals.suites import parse_suite
from promptlane_client.render import PromptContent, messages_from_dicts, render_prompt

ROOT = Path(__file__).resolve().parents[2]
README_PROMPT = """\
description: Classify a support ticket
tags: [support]
messages:
  - role: system
    content: "You triage tickets for {{company}}."
  - role: user
    content: "{{ticket}}"
config:
  model: openai/gpt-4o-mini
  temperature: 0
message: first version
"""
GOOD_PROMPTS = [
    README_PROMPT,
    "name: support/summary\ntemplate: 'Summarise {{ text }}'\ntemplate_format: jinja2\n",
    "template: hi\nvariables_schema: {type: object, properties: {a: {type: string}}}\n",
]
BAD_PROMPTS = [
    "template: hi\ntemperature: 0.2\n",  # a parameter outside config
    "template: hi\ntemplate_format: handlebars\n",
    "template: hi\nconfig: {temperature: 9}\n",
    "name: Not A Name\ntemplate: hi\n",
    "messages: []\n",
]
GOOD_SUITES = [
    "name: s\ndataset: d@2\nscorers: [{type: exact_match}]\n",
    "name: s\ndataset: {name: d}\nscorers: [{name: ok, type: contains, params: {value: x}}]\n"
    "gates: [{metric: ok, aggregate: mean, op: '>=', value: 0.9}]\n",
]
BAD_SUITES = [
    "name: s\ndataset: d\nscorers: []\n",
    "name: s\ndataset: d\nscorers: [{type: exact_match}]\nconcurrency: 0\n",
    "name: s\ndataset: d\nscorers: [{type: exact_match}]\nrepeat: 3\n",  # a typo
]
GOOD_DATASETS = [
    [{"input": {"q": "a"}, "expected": "b"}],
    {"items": [{"input": {}, "contexts": ["p"], "metadata": {"id": 1}}], "message": "m"},
]
BAD_DATASETS: list[Any] = [[], [{"inputs": {"q": 1}}], {"items": [{"contexts": "p"}]}]


def validator(name: str) -> Draft202012Validator:
    schema = FILE_SCHEMAS[name]()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("name", sorted(FILE_SCHEMAS))
def test_the_repository_copies_are_current(name: str) -> None:
    stored = (ROOT / "docs" / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    assert stored == render(name), "run: python -m api.server.file_schemas docs/schemas"


@pytest.mark.parametrize("text", GOOD_PROMPTS)
def test_good_prompt_files_pass_the_schema_and_the_server(text: str, tmp_path: Path) -> None:
    assert not list(validator("prompt-file").iter_errors(yaml.safe_load(text)))
    path = tmp_path / "p.yaml"
    path.write_text(text)
    check_file(path, tmp_path)


@pytest.mark.parametrize("text", BAD_PROMPTS)
def test_bad_prompt_files_fail_the_schema_and_the_server(text: str, tmp_path: Path) -> None:
    assert list(validator("prompt-file").iter_errors(yaml.safe_load(text)))
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PromptFileError):
        check_file(path, tmp_path)


@pytest.mark.parametrize("text", GOOD_SUITES)
def test_good_suites_pass_both(text: str) -> None:
    assert not list(validator("suite-file").iter_errors(yaml.safe_load(text)))
    parse_suite(text)


@pytest.mark.parametrize("text", BAD_SUITES)
def test_bad_suites_fail_both(text: str) -> None:
    assert list(validator("suite-file").iter_errors(yaml.safe_load(text)))
    with pytest.raises(InvalidSuiteError):
        parse_suite(text)


@pytest.mark.parametrize("doc", GOOD_DATASETS)
def test_good_datasets_pass_both(doc: Any) -> None:
    assert not list(validator("dataset-file").iter_errors(doc))
    parse_items(json.dumps(doc), fmt="json")


@pytest.mark.parametrize("doc", BAD_DATASETS)
def test_bad_datasets_fail_both(doc: Any) -> None:
    assert list(validator("dataset-file").iter_errors(doc))
    with pytest.raises(InvalidDatasetError):
        parse_items(json.dumps(doc), fmt="json")


async def test_the_api_serves_them_without_a_key(app: object) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as anonymous:
        for name in FILE_SCHEMAS:
            response = await anonymous.get(f"/v1/schemas/{name}.json")
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/schema+json"
            assert response.text == render(name)
        missing = await anonymous.get("/v1/schemas/nothing.json")
        assert missing.status_code == 422
        assert missing.headers["content-type"] == "application/problem+json"


def test_the_reference_pages_example_is_valid_and_renders(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "prompt-files.md").read_text(encoding="utf-8")
    block = page.split("```yaml\nname: support/reply\n", 1)[1].split("```", 1)[0]
    text = "name: support/reply\n" + block
    assert not list(validator("prompt-file").iter_errors(yaml.safe_load(text)))
    path = tmp_path / "reply.yaml"
    path.write_text(text)
    checked = check_file(path, None)
    content = PromptContent(
        kind="chat",
        template_format="jinja2",
        messages=messages_from_dicts(checked.body["messages"]),
        variables_schema=checked.body["variables_schema"],
    )
    rendered = render_prompt(content, {"ticket": "refund"}).messages
    assert rendered[0]["content"] == "Answer for customers, in English."
