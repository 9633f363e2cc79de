from __future__ import annotations

from typing import Any

import httpx
import pytest

from prompts.policy import Role
from tests.conftest import auth
from tests.factories import chat_body

PROBLEM = "application/problem+json"


async def publish(client: httpx.AsyncClient, name: str, **overrides: Any) -> httpx.Response:
    return await client.post(f"/v1/prompts/{name}/versions", json=chat_body(**overrides))


async def count_versions(client: httpx.AsyncClient, name: str) -> int:
    response = await client.get(f"/v1/prompts/{name}/versions")
    return int(response.json()["total"]) if response.status_code == 200 else 0


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    return body


async def test_publish_201_then_identical_200(client: httpx.AsyncClient) -> None:
    first = await publish(client, "support/triage")
    assert first.status_code == 201
    assert first.headers["location"] == "/v1/prompts/support/triage/versions/1"
    body = first.json()
    assert body["name"] == "support/triage"
    assert body["version"] == 1
    assert body["kind"] == "chat"
    assert body["author"] == "bootstrap-admin"
    again = await publish(client, "support/triage", message="same content, new message")
    assert again.status_code == 200
    assert again.json()["version"] == 1
    changed = await publish(client, "support/triage", config={"model": "openai/gpt-4o"})
    assert changed.status_code == 201
    assert changed.json()["version"] == 2


@pytest.mark.parametrize(
    "name",
    ["a", "a/b", "team/sub/prompt-v2.final", "x_y/z", "deep/" * 10 + "end"],
)
async def test_names_with_slashes_route_unambiguously(client: httpx.AsyncClient, name: str) -> None:
    assert (await publish(client, name)).status_code == 201
    assert (await publish(client, name, config={"model": "other/m"})).status_code == 201
    base = f"/v1/prompts/{name}"
    assert (await client.get(f"{base}/versions")).json()["total"] == 2
    assert (await client.get(f"{base}/versions/2")).json()["name"] == name
    moved = await client.put(f"{base}/labels/staging", json={"version": 2})
    assert moved.status_code == 200
    assert (await client.get(f"{base}/labels/staging")).json()["version"] == 2
    assert (await client.get(f"{base}/labels/staging/history")).json()["total"] == 1
    assert [lb["name"] for lb in (await client.get(f"{base}/labels")).json()] == ["staging"]
    resolved = await client.get(base, params={"label": "staging"})
    assert resolved.json()["name"] == name
    assert resolved.json()["version"] == 2
    diff = await client.get(f"{base}/diff", params={"from": 1, "to": 2})
    assert "config.model" in [c["path"] for c in diff.json()["changes"]]
    render = await client.post(
        f"{base}/render", json={"version": 1, "variables": {"company": "c", "ticket": "t"}}
    )
    assert render.status_code == 200
    patched = await client.patch(base, json={"description": "d"})
    assert patched.json()["name"] == name


async def test_reserved_segment_names_are_refused(client: httpx.AsyncClient) -> None:
    response = await publish(client, "team/versions/x")
    assert response.status_code in (404, 405, 422)
    assert (await client.get("/v1/prompts")).json()["total"] == 0


async def test_resolve_defaults_to_production(client: httpx.AsyncClient) -> None:
    await publish(client, "p")
    missing = assert_problem(await client.get("/v1/prompts/p"), 404)
    assert "production" in missing["detail"]
    await client.put("/v1/prompts/p/labels/production", json={"version": 1, "reason": "go"})
    resolved = await client.get("/v1/prompts/p")
    assert resolved.status_code == 200
    body = resolved.json()
    assert body["version"] == 1
    assert body["labels"] == ["production"]
    assert body["messages"][0]["content"] == "You triage tickets for {{company}}."
    assert body["config"]["model"] == "openai/gpt-4o-mini"
    assert resolved.headers["etag"].startswith('"')
    assert "no-cache" in resolved.headers["cache-control"]


async def test_etag_and_304(client: httpx.AsyncClient) -> None:
    await publish(client, "p")
    await client.put("/v1/prompts/p/labels/production", json={"version": 1})
    first = await client.get("/v1/prompts/p")
    etag = first.headers["etag"]
    not_modified = await client.get("/v1/prompts/p", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    weak = await client.get("/v1/prompts/p", headers={"If-None-Match": f'"x", W/{etag}'})
    assert weak.status_code == 304
    assert (
        await client.get("/v1/prompts/p", headers={"If-None-Match": '"other"'})
    ).status_code == 200
    # Moving the label changes the body, so the old ETag no longer matches.
    await publish(client, "p", config={"model": "m/2"})
    await client.put("/v1/prompts/p/labels/production", json={"version": 2})
    moved = await client.get("/v1/prompts/p", headers={"If-None-Match": etag})
    assert moved.status_code == 200
    assert moved.json()["version"] == 2
    assert moved.headers["etag"] != etag


async def test_cache_is_invalidated_by_writes(client: httpx.AsyncClient) -> None:
    await publish(client, "p")
    await client.put("/v1/prompts/p/labels/production", json={"version": 1})
    assert (await client.get("/v1/prompts/p")).json()["labels"] == ["production"]
    await client.put("/v1/prompts/p/labels/canary", json={"version": 1})
    assert (await client.get("/v1/prompts/p")).json()["labels"] == ["canary", "production"]


async def test_resolve_by_version_and_latest(client: httpx.AsyncClient) -> None:
    await publish(client, "p")
    await publish(client, "p", config={"model": "m/2"})
    assert (await client.get("/v1/prompts/p", params={"version": 1})).json()["version"] == 1
    assert (await client.get("/v1/prompts/p", params={"label": "latest"})).json()["version"] == 2
    assert_problem(await client.get("/v1/prompts/p", params={"version": 9}), 404)
    assert_problem(await client.get("/v1/prompts/p", params={"version": 1, "label": "x"}), 422)
    assert_problem(await client.get("/v1/prompts/p", params={"version": 0}), 422)
    assert_problem(await client.get("/v1/prompts/nope"), 404)


async def test_render_422_lists_missing_and_invalid_variables(client: httpx.AsyncClient) -> None:
    schema = {
        "type": "object",
        "properties": {"ticket": {"type": "string", "maxLength": 5}},
        "required": ["ticket"],  # a variable the schema leaves optional may be left out
    }
    await publish(client, "p", variables_schema=schema)
    missing = assert_problem(
        await client.post("/v1/prompts/p/render", json={"version": 1, "variables": {}}), 422
    )
    assert [e["pointer"] for e in missing["errors"]] == [
        "#/variables/company",
        "#/variables/ticket",
    ]
    invalid = assert_problem(
        await client.post(
            "/v1/prompts/p/render",
            json={"version": 1, "variables": {"company": "c", "ticket": "too long"}},
        ),
        422,
    )
    assert invalid["errors"][0]["pointer"] == "#/variables/ticket"
    ok = await client.post(
        "/v1/prompts/p/render",
        json={"label": "latest", "variables": {"company": "<c>", "ticket": "t"}},
    )
    assert ok.json()["messages"][0]["content"] == "You triage tickets for <c>."


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"template": "x", "messages": [{"role": "user", "content": "y"}]}, "#/"),
        ({"kind": "chat", "template": "x"}, "#/"),
        ({"template": "x", "config": {"temperature": 5}}, "#/config/temperature"),
        ({"template": "x", "config": {"unknown": 1}}, "#/config/unknown"),
        ({"template": "x", "config": {"extra": {"temperature": 1}}}, "#/config/extra"),
        ({"template": "x", "config": {"tools": [{"type": "nope"}]}}, "#/config/tools"),
        (
            {"template": "x", "config": {"response_format": {"type": "yaml"}}},
            "#/config/response_format",
        ),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "#/messages/0/role"),
        ({"template": "x", "variables_schema": {"type": "nonsense"}}, "#/variables_schema"),
        ({"template": "x", "template_format": "handlebars"}, "#/template_format"),
        ({"template": "x", "surprise": True}, "#/surprise"),
    ],
)
async def test_publish_rejects_bad_bodies(
    client: httpx.AsyncClient, body: dict[str, Any], pointer: str
) -> None:
    problem = assert_problem(await client.post("/v1/prompts/p/versions", json=body), 422)
    assert any(e.get("pointer", "").startswith(pointer) for e in problem["errors"]), problem
    assert await count_versions(client, "p") == 0


@pytest.mark.parametrize(
    ("template", "fmt"),
    [
        ("{{> /etc/passwd}}", "mustache"),
        ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "jinja2"),
        ("{% include 'secrets.txt' %}", "jinja2"),
        ("{{#open}}never closed", "mustache"),
    ],
)
async def test_template_injection_refused(
    client: httpx.AsyncClient, template: str, fmt: str
) -> None:
    response = await client.post(
        "/v1/prompts/p/versions", json={"template": template, "template_format": fmt}
    )
    problem = assert_problem(response, 422)
    assert problem["type"] == "urn:promptlane:problem:invalid-template"
    assert await count_versions(client, "p") == 0


async def test_size_limits(app: Any, client: httpx.AsyncClient) -> None:
    limit = app.state.services.settings.max_template_chars
    too_long = {"template": "x" * (limit + 1)}
    assert_problem(await client.post("/v1/prompts/p/versions", json=too_long), 422)
    huge = b'{"template": "' + b"x" * (app.state.services.settings.max_body_bytes + 1) + b'"}'
    response = await client.post(
        "/v1/prompts/p/versions", content=huge, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)

    async def chunks() -> Any:
        for _ in range(3):
            yield b"x" * app.state.services.settings.max_body_bytes

    chunked = await client.post(
        "/v1/prompts/p/versions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(chunked, 413)
    assert await count_versions(client, "p") == 0


async def test_malformed_json_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/prompts/p/versions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


async def test_label_errors(client: httpx.AsyncClient) -> None:
    await publish(client, "p")
    assert_problem(await client.put("/v1/prompts/p/labels/latest", json={"version": 1}), 422)
    assert_problem(await client.put("/v1/prompts/p/labels/BAD!", json={"version": 1}), 422)
    assert_problem(await client.put("/v1/prompts/p/labels/staging", json={"version": 7}), 404)
    assert_problem(await client.put("/v1/prompts/nope/labels/staging", json={"version": 1}), 404)
    assert_problem(await client.put("/v1/prompts/p/labels/staging", json={"version": "one"}), 422)
    assert_problem(await client.get("/v1/prompts/p/labels/staging"), 404)
    assert (await client.get("/v1/prompts/p/labels/staging/history")).json()["total"] == 0


async def test_protected_label_refused_for_writer(client: httpx.AsyncClient) -> None:
    await publish(client, "p")
    refused = await client.put(
        "/v1/prompts/p/labels/production", json={"version": 1}, headers=auth(Role.WRITER)
    )
    problem = assert_problem(refused, 403)
    assert "protected" in problem["detail"]
    assert (await client.get("/v1/prompts/p/labels")).json() == []
    allowed = await client.put(
        "/v1/prompts/p/labels/staging", json={"version": 1}, headers=auth(Role.WRITER)
    )
    assert allowed.status_code == 200


async def test_history_records_actor_reason_and_rollback(client: httpx.AsyncClient) -> None:
    await publish(client, "p")
    await publish(client, "p", config={"model": "m/2"})
    for version, reason in ((1, "launch"), (2, "better"), (1, "rollback: regressions")):
        await client.put(
            "/v1/prompts/p/labels/production", json={"version": version, "reason": reason}
        )
    history = (await client.get("/v1/prompts/p/labels/production/history")).json()
    assert [(e["from_version"], e["to_version"], e["reason"]) for e in history["items"]] == [
        (2, 1, "rollback: regressions"),
        (1, 2, "better"),
        (None, 1, "launch"),
    ]
    assert {e["actor"] for e in history["items"]} == {"bootstrap-admin"}
    page = (await client.get("/v1/prompts/p/labels/production/history", params={"limit": 1})).json()
    assert page["total"] == 3
    assert len(page["items"]) == 1


async def test_list_prompts_filters_and_pagination(client: httpx.AsyncClient) -> None:
    await client.post("/v1/prompts", json={"name": "a/one", "description": "First", "tags": ["t1"]})
    assert_problem(await client.post("/v1/prompts", json={"name": "a/one"}), 409)
    assert_problem(await client.post("/v1/prompts", json={"name": "Bad Name"}), 422)
    assert_problem(await client.post("/v1/prompts", json={"name": "ok", "tags": ["bad tag"]}), 422)
    await publish(client, "a/two")
    await client.put("/v1/prompts/a/two/labels/staging", json={"version": 1})
    listing = (await client.get("/v1/prompts")).json()
    assert [p["name"] for p in listing["items"]] == ["a/one", "a/two"]
    two = listing["items"][1]
    assert two["labels"] == {"staging": 1}
    assert two["latest_version"] == 1
    assert [p["name"] for p in (await client.get("/v1/prompts?tag=t1")).json()["items"]] == [
        "a/one"
    ]
    assert [p["name"] for p in (await client.get("/v1/prompts?label=staging")).json()["items"]] == [
        "a/two"
    ]
    assert [p["name"] for p in (await client.get("/v1/prompts?q=first")).json()["items"]] == [
        "a/one"
    ]
    page = (await client.get("/v1/prompts?limit=1&offset=1")).json()
    assert page["total"] == 2
    assert [p["name"] for p in page["items"]] == ["a/two"]
    assert_problem(await client.get("/v1/prompts?limit=0"), 422)
    assert_problem(await client.get("/v1/prompts?limit=1000"), 422)


async def test_diff_errors(client: httpx.AsyncClient) -> None:
    await publish(client, "p")
    assert_problem(await client.get("/v1/prompts/p/diff", params={"from": 1, "to": 5}), 404)
    assert_problem(await client.get("/v1/prompts/p/diff", params={"from": 1}), 422)


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v2/anything"), 404)
    assert_problem(await client.delete("/v1/prompts"), 405)


async def test_openapi_documents_every_route(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/v1/prompts/{name}/versions" in spec["paths"]
    assert spec["paths"]["/v1/prompts/{name}"]["get"]["description"]


async def test_a_publish_plan_says_what_would_happen_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    body = {"template": "Hello {{name}}"}
    url = "/v1/prompts/plan/demo/versions"
    plan = await client.post(url + "/plan", json=body, headers=auth(Role.WRITER))
    assert plan.status_code == 200, plan.text
    assert plan.json()["action"] == "create_prompt"
    assert plan.json()["version"] == 1
    assert (await client.get("/v1/prompts/plan/demo")).status_code == 404
    published = await client.post(url, json=body)
    assert published.json()["content_hash"] == plan.json()["content_hash"]
    same = (await client.post(url + "/plan", json=body)).json()
    assert (same["action"], same["version"]) == ("unchanged", 1)
    changed = (await client.post(url + "/plan", json={"template": "Hi {{name}}"})).json()
    assert (changed["action"], changed["version"]) == ("create_version", 2)
    assert (await client.get(url)).json()["total"] == 1
    refused = await client.post(url + "/plan", json=body, headers=auth(Role.READER))
    assert refused.status_code == 403
    bad = await client.post(url + "/plan", json={"template": "{{> partial}}"})
    assert bad.status_code == 422
