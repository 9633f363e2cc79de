"""Signatures made with the standard library, checked by the independent `standardwebhooks`."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from evals.webhooks import signing

BODY = b'{"type":"label.moved","timestamp":"2026-12-09T10:00:00Z","data":{"prompt":"p"}}'
MSG_ID = "msg_" + "ab" * 16


def test_a_signature_verifies_with_the_standard_library() -> None:
    secret = signing.new_secret()
    now = int(time.time())
    headers = signing.headers([secret], MSG_ID, now, BODY)
    assert Webhook(secret).verify(BODY, headers) == {
        "type": "label.moved",
        "timestamp": "2026-12-09T10:00:00Z",
        "data": {"prompt": "p"},
    }
    assert headers["webhook-id"] == MSG_ID
    assert headers["webhook-timestamp"] == str(now)
    assert headers["webhook-signature"].startswith("v1,")


def test_a_new_secret_is_32_random_bytes() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != signing.new_secret()


def test_a_rotated_endpoint_signs_twice_and_either_secret_verifies() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    now = int(time.time())
    headers = signing.headers([new, old], MSG_ID, now, BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)


@pytest.mark.parametrize(
    ("change", "value"),
    [("body", BODY + b" "), ("webhook-id", "msg_other"), ("webhook-timestamp", "shift")],
)
def test_a_changed_message_does_not_verify(change: str, value: object) -> None:
    secret = signing.new_secret()
    now = int(time.time())
    headers = signing.headers([secret], MSG_ID, now, BODY)
    body = BODY
    if change == "body":
        body = value  # type: ignore[assignment]
    elif change == "webhook-timestamp":
        headers[change] = str(now - 1)
    else:
        headers[change] = str(value)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_a_replay_signed_six_minutes_ago_is_refused() -> None:
    secret = signing.new_secret()
    headers = signing.headers([secret], MSG_ID, int(time.time()) - 360, BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


@pytest.mark.parametrize(
    "secret",
    [
        "not-a-secret",
        "whsec_***",
        "whsec_" + base64.b64encode(b"x" * 23).decode(),
        "whsec_" + base64.b64encode(b"x" * 65).decode(),
    ],
)
def test_a_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(signing.SecretFormatError):
        signing.secret_key(secret)


def test_an_id_with_a_dot_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'\.'"):
        signing.sign([signing.new_secret()], "msg_a.b", 0, BODY)
