"""deploy/vendor.py, offline: a registry stand-in serves metadata and a tarball."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "vendor.py"
TARBALL = "https://registry.npmjs.org/redoc/-/redoc-9.9.9.tgz"
FILES = {
    "package/bundles/redoc.standalone.js": b"/* redoc */\n",
    "package/bundles/redoc.standalone.js.LICENSE.txt": b"bundled licences\n",
    "package/LICENSE": b"MIT License\n",
    "package/README.md": b"not vendored\n",
}


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vendor_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tgz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def registry(tarball: bytes, *, integrity: str | None = None) -> httpx.MockTransport:
    digest = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    metadata: dict[str, Any] = {
        "license": "MIT",
        "dist": {"tarball": TARBALL, "integrity": integrity or f"sha512-{digest}"},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if str(request.url) == "https://registry.npmjs.org/redoc/9.9.9":
            return httpx.Response(200, json=metadata)
        if str(request.url) == TARBALL:
            return httpx.Response(200, content=tarball)
        return httpx.Response(404)

    return httpx.MockTransport(answer)


@pytest.fixture
def vendor_dir(tmp_path: Path) -> Path:
    (tmp_path / "redoc-1.0.0").mkdir()  # the version being replaced
    (tmp_path / "redoc-1.0.0" / "LICENSE").write_text("old")
    other = {"name": "swagger-ui-dist", "directory": "swagger-ui-dist-5.0.0", "files": {}}
    (tmp_path / "VENDORED.json").write_text(json.dumps({"libraries": [other]}))
    return tmp_path


def test_vendoring_checks_copies_and_records(vendor_dir: Path) -> None:
    tarball = tgz(FILES)
    assert (
        load_script().main(["redoc", "9.9.9"], vendor_dir=vendor_dir, transport=registry(tarball))
        == 0
    )
    assert not (vendor_dir / "redoc-1.0.0").exists()
    folder = vendor_dir / "redoc-9.9.9"
    assert sorted(p.name for p in folder.iterdir()) == [
        "LICENSE",
        "redoc.standalone.js",
        "redoc.standalone.js.LICENSE.txt",
    ]
    record = json.loads((vendor_dir / "VENDORED.json").read_text())["libraries"]
    assert [lib["name"] for lib in record] == ["redoc", "swagger-ui-dist"]
    redoc = record[0]
    assert redoc["source"] == TARBALL
    assert redoc["license"] == "MIT"
    assert redoc["integrity"].startswith("sha512-")
    assert redoc["files"]["redoc.standalone.js"] == hashlib.sha256(b"/* redoc */\n").hexdigest()


def test_a_tarball_that_does_not_match_its_integrity_is_refused(vendor_dir: Path) -> None:
    wrong = "sha512-" + base64.b64encode(hashlib.sha512(b"other").digest()).decode()
    transport = registry(tgz(FILES), integrity=wrong)
    with pytest.raises(SystemExit, match="integrity mismatch"):
        load_script().main(["redoc", "9.9.9"], vendor_dir=vendor_dir, transport=transport)
    assert (vendor_dir / "redoc-1.0.0" / "LICENSE").read_text() == "old"  # nothing touched
    assert not (vendor_dir / "redoc-9.9.9").exists()


def test_a_missing_file_is_named(vendor_dir: Path) -> None:
    files = {k: v for k, v in FILES.items() if k != "package/LICENSE"}
    transport = registry(tgz(files))
    with pytest.raises(SystemExit, match="LICENSE is not a file in the tarball"):
        load_script().main(["redoc", "9.9.9"], vendor_dir=vendor_dir, transport=transport)
    assert sorted(p.name for p in vendor_dir.iterdir()) == ["VENDORED.json", "redoc-1.0.0"]


@pytest.mark.parametrize("version", ["^2.5.0", "2", "latest", "2.5.4\n"])
def test_only_exact_versions_are_accepted(vendor_dir: Path, version: str) -> None:
    with pytest.raises(SystemExit) as exited:
        load_script().main(["redoc", version], vendor_dir=vendor_dir, transport=registry(b""))
    assert exited.value.code == 2
