"""Bounds shared by route parameters: what the databases can hold."""

from __future__ import annotations

from typing import Final

from prompts.schemas import LABEL_RE, NAME_RE

# PostgreSQL's `integer` (ids, versions, offsets); SQLite's limit (2^63 - 1) is above it.
INT_MAX: Final = 2**31 - 1

# The name and label rules (prompts.schemas) as OpenAPI patterns. Documentation only: the
# services check them, with messages that say what a name may hold.
NAME_PATTERN: Final = rf"^(?:{NAME_RE.pattern})$"
LABEL_PATTERN: Final = rf"^(?:{LABEL_RE.pattern})$"
