"""The local credentials file (0600): API keys per server URL, for the CLI."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Names of this machine that reach the same local server: a key saved for one works for all.
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def server_key(url: str) -> str:
    """Return the form a server URL is stored under (one form for one server).

    Scheme and host lowercase, a default port dropped, no trailing slash, and every loopback
    name (`localhost`, `::1`) written 127.0.0.1.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip().rstrip("/")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host in _LOOPBACK:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), "", ""))


def load(path: Path) -> dict[str, str]:
    """Return {server URL: API key} from the file, empty when absent or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    servers = data.get("servers", {}) if isinstance(data, dict) else {}
    return {server_key(str(k)): str(v) for k, v in servers.items() if isinstance(v, str)}


def key_for(path: Path, url: str) -> str | None:
    """Return the stored key for `url` (`localhost`, `127.0.0.1` and a trailing slash alike)."""
    return load(path).get(server_key(url))


def save(path: Path, url: str, key: str) -> None:
    """Store `key` for `url`, atomically, readable by the owner only."""
    servers = load(path)
    servers[server_key(url)] = key
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
