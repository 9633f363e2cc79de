"""Bounds shared by route parameters: what the databases can hold."""

from __future__ import annotations

from typing import Final

# PostgreSQL's `integer` (ids, versions, offsets); SQLite's limit (2^63 - 1) is above it.
INT_MAX: Final = 2**31 - 1
