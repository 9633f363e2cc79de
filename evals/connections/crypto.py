"""Connection secrets at rest: Fernet tokens under a list of keys (the first encrypts).

Keys come from the API layer (PROMPTLANE_SECRET_KEYS or the key file); every key decrypts,
so a new key goes first and the old one stays until `rotate` re-encrypted every secret.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(ValueError):
    """A secret key is not a Fernet key (32 url-safe base64-encoded bytes)."""


class UndecryptableSecretError(Exception):
    """A stored secret was sealed with a key that is not configured any more."""


def generate_key() -> bytes:
    """Return a new random Fernet key."""
    return Fernet.generate_key()


class SecretBox:
    """Seals and opens connection secrets with MultiFernet."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        """Use `keys` (the first encrypts, every one decrypts); raise SecretKeyError if bad."""
        if not keys:
            raise SecretKeyError("no secret key given")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except ValueError:
                raise SecretKeyError(
                    f"secret key {position} is not a Fernet key (32 url-safe base64 bytes)"
                ) from None
        self._fernet = MultiFernet(fernets)

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def seal(self, secret: str) -> str:
        """Return the ciphertext of `secret`, under the first key."""
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, ciphertext: str) -> str:
        """Return the secret in `ciphertext`; raise UndecryptableSecretError if no key fits."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise UndecryptableSecretError("no configured secret key decrypts it") from None

    def rotate(self, ciphertext: str) -> str:
        """Return `ciphertext` re-encrypted under the first key."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise UndecryptableSecretError("no configured secret key decrypts it") from None
