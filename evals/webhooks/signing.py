"""Standard Webhooks signatures (https://www.standardwebhooks.com), with the standard library.

A secret is `whsec_` and the base64 of 24 to 64 random bytes; those bytes are the HMAC key.
Each request carries `webhook-id` (the event's uid, the same on every retry), `webhook-timestamp`
(Unix seconds of this attempt) and `webhook-signature`: `v1,<base64 HMAC-SHA256(key,
"{id}.{timestamp}.{body}")>`, one per secret, separated by spaces (two while a rotated secret's
predecessor is still honoured). Receivers verify with any Standard Webhooks library, which also
refuses a timestamp more than five minutes from their clock (replays).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Final

PREFIX: Final = "whsec_"
SECRET_BYTES: Final = 32
_MIN_BYTES: Final = 24
_MAX_BYTES: Final = 64


class SecretFormatError(ValueError):
    """A webhook secret is not `whsec_` followed by the base64 of 24 to 64 bytes."""


def new_secret() -> str:
    """Return a new random secret: `whsec_` and the base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """Return the HMAC key of a `whsec_` secret; raise SecretFormatError if it is not one."""
    if not secret.startswith(PREFIX):
        raise SecretFormatError(f"a webhook secret starts with {PREFIX!r}")
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise SecretFormatError("a webhook secret's key part must be base64") from None
    if not _MIN_BYTES <= len(key) <= _MAX_BYTES:
        raise SecretFormatError(f"a webhook secret holds {_MIN_BYTES} to {_MAX_BYTES} bytes")
    return key


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return one versioned signature, `v1,<base64>`, of a message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def sign(secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` value: one signature per secret, space-separated."""
    if not secrets_:
        raise SecretFormatError("no webhook secret to sign with")
    if "." in msg_id:
        raise ValueError("a webhook id must not contain '.'")
    return " ".join(signature(secret_key(s), msg_id, timestamp, body) for s in secrets_)


def headers(secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Return the three Standard Webhooks headers of one attempt (and the content type)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets_, msg_id, timestamp, body),
        "content-type": "application/json",
    }
