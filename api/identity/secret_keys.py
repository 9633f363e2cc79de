"""The server's secret keys for connection secrets: PROMPTLANE_SECRET_KEYS, else a key file.

PROMPTLANE_SECRET_KEYS holds comma-separated Fernet keys (the first encrypts, every one
decrypts). Without it, the key in `secret_key_file` is used, created (mode 0600) on first start;
replicas must share their keys, so deployments with several set PROMPTLANE_SECRET_KEYS.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

from api.settings import Settings
from evals.connections.crypto import SecretBox, SecretKeyError, generate_key

log = logging.getLogger("promptlane")


def load_secret_box(settings: Settings) -> SecretBox:
    """Return the SecretBox of the configured keys; raise RuntimeError when a key is bad."""
    if settings.secret_keys is not None:
        raw = settings.secret_keys.get_secret_value()
        keys = [part.strip().encode() for part in raw.split(",") if part.strip()]
        where = "PROMPTLANE_SECRET_KEYS"
    else:
        keys = [read_or_create_key(settings.secret_key_file)]
        where = str(settings.secret_key_file)
    try:
        return SecretBox(keys)
    except SecretKeyError as exc:  # the message names the key's position, never the key
        raise RuntimeError(f"{where}: {exc}") from None


def read_or_create_key(path: Path) -> bytes:
    """Return the key in `path`, creating the file (0600, atomically) when it is missing."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = generate_key()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
        # link() fails if another process created the file first: then its key is the one.
        os.link(tmp, path)
    except FileExistsError:
        return path.read_bytes().strip()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    log.warning("created the secret key for connection keys at %s (back it up)", path)
    return key
