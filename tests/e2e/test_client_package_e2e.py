"""The client package installs on its own and works against a real server.

clients/python goes into a fresh virtualenv (the project's uv; versions pinned by uv.lock), and
so does its built wheel into another. Neither may hold the server's stack or packages; in each,
a script fetches, renders and caches a prompt from a `promptlane serve` process, and sees its
stale entry revalidated with a 304.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"
UV = str(Path(sys.executable).parent / "uv")
# Distributions (and top-level packages) an application installing the client must not get.
SERVER_DISTRIBUTIONS = (
    "fastapi", "starlette", "uvicorn", "sqlalchemy", "sqlmodel", "litellm", "ragas", "pandas",
)  # fmt: skip
SERVER_PACKAGES = ("api", "prompts", "evals", "tracing", *SERVER_DISTRIBUTIONS)
CHAT = {
    "messages": [
        {"role": "system", "content": "You triage tickets for {{company}}."},
        {"role": "user", "content": "{{ticket}}"},
    ],
    "config": {"model": "openai/gpt-4o-mini", "temperature": 0.2},
}
SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import httpx
    import promptlane_client
    from promptlane_client import Client, MissingVariablesError

    url, key = sys.argv[1], sys.argv[2]
    seen = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request):
            response = super().handle_request(request)
            sent = request.headers.get("if-none-match")
            seen.append([sent, response.status_code, response.headers.get("etag")])
            return response

    variables = {"company": "A&B <Ltd>", "ticket": "it's <broken> & slow"}
    with Client(url, key, cache_ttl=0, transport=Recording()) as client:
        first = client.get_prompt("pkg/triage")
        rendered = first.render(variables)
        cached = client.get_prompt("pkg/triage")  # stale at once (TTL 0): revalidating
        deadline = time.monotonic() + 30
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # let the refresh store its answer
        after = client.get_prompt("pkg/triage")
        server = client.render_prompt("pkg/triage", variables)
        try:
            first.render(company="x")
            missing = None
        except MissingVariablesError as exc:
            missing = str(exc)
    heavy = {"fastapi", "starlette", "sqlalchemy", "sqlmodel", "litellm", "ragas", "pandas",
             "uvicorn", "pydantic", "openai", "api", "prompts", "evals", "tracing"}
    print(json.dumps({
        "module": promptlane_client.__file__,
        "version": [first.name, first.version, first.label],
        "messages": rendered.messages,
        "server_messages": server["messages"],
        "exchanges": seen[:2],
        "cached": cached is first and after is first,
        "missing": missing,
        "loaded": sorted(heavy & {m.split(".")[0] for m in sys.modules}),
    }))
    """
)


def uv(*args: str) -> str:
    """Run the project's uv in the checkout; return its stdout."""
    done = subprocess.run([UV, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"uv {' '.join(args)}:\n{done.stderr}"
    return done.stdout


def outside_env() -> dict[str, str]:
    """Return the environment for the venv's interpreter: nothing that points at the checkout."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PROMPTLANE_"))}


def fresh_venv(path: Path, target: str, constraints: Path) -> Path:
    """Create a venv at `path` holding `target` (a directory or wheel); return its python."""
    uv("venv", "-q", "--python", sys.executable, str(path))
    python = path / "bin" / "python"
    uv("pip", "install", "-q", "--python", str(python), "-c", str(constraints), target)
    return python


def installed(python: Path) -> tuple[set[str], set[str]]:
    """Return the venv's distribution names and the server packages its interpreter finds."""
    code = textwrap.dedent(
        f"""
        import json, importlib.metadata as md, importlib.util as iu
        names = sorted({{d.metadata["Name"].lower() for d in md.distributions()}})
        found = [p for p in {list(SERVER_PACKAGES)!r} if iu.find_spec(p) is not None]
        print(json.dumps([names, found]))
        """
    )
    out = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=python.parents[2],  # never the checkout, whose packages `-c` would see
        env=outside_env(),
    )
    names, found = json.loads(out.stdout)
    return set(names), set(found)


def run_script(python: Path, server: Server) -> dict[str, Any]:
    """Run the fetch/render/cache script in the venv against the server; return its report."""
    out = subprocess.run(
        [python, "-c", SCRIPT, server.url, ADMIN_KEY],
        capture_output=True,
        text=True,
        check=False,
        cwd=python.parents[2],
        env=outside_env(),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    report: dict[str, Any] = json.loads(out.stdout)
    return report


@pytest.fixture(scope="module")
def constraints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pin the client's dependencies to uv.lock (reproducible, and mostly from uv's cache)."""
    path = tmp_path_factory.mktemp("client") / "constraints.txt"
    pins = uv("export", "--frozen", "--package", "promptlane-client", "--no-emit-workspace")
    path.write_text(pins)
    return path


@pytest.fixture(scope="module")
def published(server: Server) -> Server:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as h:
        assert h.post("/v1/prompts/pkg/triage/versions", json=CHAT).status_code == 201
        moved = h.put("/v1/prompts/pkg/triage/labels/production", json={"version": 1})
        assert moved.status_code == 200, moved.text
    return server


def assert_works(report: dict[str, Any], venv: Path) -> None:
    """Check a script's report: the venv's own package fetched, rendered, cached, revalidated."""
    assert Path(report["module"]).is_relative_to(venv)
    assert report["version"] == ["pkg/triage", 1, "production"]
    assert report["messages"] == [
        {"role": "system", "content": "You triage tickets for A&B <Ltd>."},
        {"role": "user", "content": "it's <broken> & slow"},
    ]
    assert report["messages"] == report["server_messages"]
    (sent, status, etag), (conditional, revalidated, _) = report["exchanges"]
    assert (sent, status) == (None, 200)
    assert etag
    assert (conditional, revalidated) == (etag, 304)  # If-None-Match: the entry's ETag
    assert report["cached"] is True
    assert report["missing"] == "missing variables: ticket"
    assert report["loaded"] == []


def assert_light(python: Path) -> None:
    names, found = installed(python)
    assert "promptlane-client" in names
    assert "promptlane" not in names
    assert names.isdisjoint(SERVER_DISTRIBUTIONS), names
    assert found == set()


def test_the_client_installs_from_the_checkout_alone_and_works(
    published: Server, constraints: Path, tmp_path: Path
) -> None:
    python = fresh_venv(tmp_path / "venv", str(CLIENT), constraints)
    assert_light(python)
    assert_works(run_script(python, published), tmp_path / "venv")


def test_the_built_wheel_installs_alone_and_works(
    published: Server, constraints: Path, tmp_path: Path
) -> None:
    uv("build", "-q", str(CLIENT), "--wheel", "-o", str(tmp_path / "dist"))
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name == "promptlane_client-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        assert "promptlane_client/py.typed" in archive.namelist()
        assert "promptlane_client/render/sandbox.py" in archive.namelist()
    assert tops == {"promptlane_client", "promptlane_client-0.1.0.dist-info"}
    python = fresh_venv(tmp_path / "venv", str(wheel), constraints)
    assert_light(python)
    assert_works(run_script(python, published), tmp_path / "venv")
