"""The local credentials file (0600): API keys per server URL, for the CLI."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path


def load(path: Path) -> dict[str, str]:
    """Return {server URL: API key} from the file, empty when absent or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    servers = data.get("servers", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in servers.items() if isinstance(v, str)}


def key_for(path: Path, url: str) -> str | None:
    """Return the stored key for `url`."""
    return load(path).get(url.rstrip("/"))


def save(path: Path, url: str, key: str) -> None:
    """Store `key` for `url`, atomically, readable by the owner only."""
    servers = load(path)
    servers[url.rstrip("/")] = key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".credentials-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"servers": servers}, handle, indent=2)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
