"""Vendor a pinned front-end library for the API docs pages from the npm registry.

    .venv/bin/python deploy/vendor.py swagger-ui-dist 5.35.0
    .venv/bin/python deploy/vendor.py redoc 3.0.1

Downloads the package's tarball, checks it against the `integrity` the registry publishes
(sha512, Subresource Integrity format), copies the files the pages need (and the licences)
into api/server/static/vendor/<name>-<version>/, removes the library's previous version and
records name, version, licence, source, integrity and each file's sha256 in VENDORED.json,
which the server reads to know what it may serve. `make run` and `make test` never run this:
the vendored files are committed. After upgrading, run the API docs tests
(tests/api/test_apidocs.py, tests/e2e/test_apidocs.py).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Final

import httpx

REGISTRY: Final = "https://registry.npmjs.org"
VENDOR: Final = Path(__file__).resolve().parents[1] / "api" / "server" / "static" / "vendor"
RECORD: Final = "VENDORED.json"
# What each library contributes: path in the tarball (under package/) -> name served.
FILES: Final[dict[str, dict[str, str]]] = {
    "swagger-ui-dist": {
        "swagger-ui-bundle.js": "swagger-ui-bundle.js",
        "swagger-ui.css": "swagger-ui.css",
        "LICENSE": "LICENSE",
        "NOTICE": "NOTICE",
        # The licences of the libraries bundled into swagger-ui-bundle.js.
        "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
    },
    "redoc": {
        "bundles/redoc.standalone.js": "redoc.standalone.js",
        "LICENSE": "LICENSE",
        # The licences of the libraries bundled into redoc.standalone.js.
        "bundles/redoc.standalone.js.LICENSE.txt": "redoc.standalone.js.LICENSE.txt",
    },
}
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\Z")


def fetch_metadata(client: httpx.Client, name: str, version: str) -> dict[str, Any]:
    """Return the registry's metadata of one published version."""
    response = client.get(f"{REGISTRY}/{name}/{version}")
    response.raise_for_status()
    metadata: dict[str, Any] = response.json()
    return metadata


def check_integrity(tarball: bytes, integrity: str) -> None:
    """Raise if `tarball` does not match an SRI `sha512-<base64>` string."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise SystemExit(f"unexpected integrity algorithm {algorithm!r} (want sha512)")
    actual = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if actual != expected:
        raise SystemExit(f"integrity mismatch: registry says {integrity}, got sha512-{actual}")


def extract(tarball: bytes, wanted: dict[str, str], target: Path) -> dict[str, str]:
    """Write the `wanted` files of an npm tarball into `target`; return name -> sha256."""
    hashes: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for source, served in wanted.items():
            try:
                member = archive.extractfile(f"package/{source}")
            except KeyError:
                member = None
            if member is None:
                raise SystemExit(f"{source} is not a file in the tarball: update FILES")
            body = member.read()
            (target / served).write_bytes(body)  # only names from FILES: no path from the archive
            hashes[served] = hashlib.sha256(body).hexdigest()
    return hashes


def load_record(vendor_dir: Path) -> list[dict[str, Any]]:
    """Return the libraries VENDORED.json lists (none before the first run)."""
    record = vendor_dir / RECORD
    if not record.exists():
        return []
    libraries: list[dict[str, Any]] = json.loads(record.read_text(encoding="utf-8"))["libraries"]
    return libraries


def vendor(client: httpx.Client, name: str, version: str, vendor_dir: Path) -> dict[str, Any]:
    """Download, check and install one library version; return its VENDORED.json entry."""
    metadata = fetch_metadata(client, name, version)
    dist = metadata["dist"]
    response = client.get(dist["tarball"])
    response.raise_for_status()
    check_integrity(response.content, dist["integrity"])
    directory = f"{name}-{version}"
    # Extract beside the old version and swap only once every file is there.
    staging = Path(tempfile.mkdtemp(prefix=f".{directory}-", dir=vendor_dir))
    staging.chmod(0o755)  # mkdtemp makes it private; the files are for anyone to read
    try:
        files = extract(response.content, FILES[name], staging)
    except BaseException:
        shutil.rmtree(staging)
        raise
    for old in vendor_dir.glob(f"{name}-*"):
        if old.is_dir() and _VERSION.fullmatch(old.name.removeprefix(f"{name}-")):
            shutil.rmtree(old)
    staging.rename(vendor_dir / directory)
    return {
        "name": name,
        "version": version,
        "license": metadata["license"],
        "source": dist["tarball"],
        "integrity": dist["integrity"],
        "directory": directory,
        "files": files,
    }


def main(
    argv: list[str] | None = None,
    *,
    vendor_dir: Path = VENDOR,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Vendor the library and version given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(FILES))
    parser.add_argument("version", help="an exact published version, e.g. 5.35.0")
    args = parser.parse_args(argv)
    if not _VERSION.fullmatch(args.version):
        parser.error("give an exact version (major.minor.patch), not a range or a tag")
    with httpx.Client(timeout=60, follow_redirects=True, transport=transport) as client:
        entry = vendor(client, args.name, args.version, vendor_dir)
    libraries = [lib for lib in load_record(vendor_dir) if lib["name"] != args.name] + [entry]
    libraries.sort(key=lambda lib: str(lib["name"]))
    text = json.dumps({"libraries": libraries}, indent=2) + "\n"
    (vendor_dir / RECORD).write_text(text, encoding="utf-8")
    sys.stdout.write(f"vendored {entry['directory']} into {vendor_dir}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
