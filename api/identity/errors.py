"""Errors of identity: who is calling and what their key may do.

    IdentityError
    ├── AuthenticationError      no key, unknown or revoked key
    ├── PermissionDeniedError    the key's role is too low
    ├── ApiKeyNotFoundError
    ├── ApiKeyExistsError
    └── LastAdminKeyError        revoking it would lock everyone out

The server maps them to 401, 403, 404, 409 and 409 (api/server/errors.py).
"""

from __future__ import annotations


class IdentityError(Exception):
    """Root of identity's errors."""

    title = "Identity error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class AuthenticationError(IdentityError):
    """No valid API key was presented."""

    title = "Authentication required"


class PermissionDeniedError(IdentityError):
    """The API key's role does not allow this."""

    title = "Permission denied"


class ApiKeyNotFoundError(IdentityError):
    """No API key has this id."""

    title = "API key not found"


class ApiKeyExistsError(IdentityError):
    """An API key with this name exists."""

    title = "API key already exists"


class LastAdminKeyError(IdentityError):
    """Revoking this key would leave no active admin key."""

    title = "Last admin key"
