"""The shared SQL kernel, as the domains import it.

It lives in `tracing.base`, the lowest layer, so the tracing tables can use it too.
"""

from __future__ import annotations

from tracing.base import (
    NAMING_CONVENTION,
    JSONType,
    UTCDateTime,
    metadata,
    upsert_insert,
    utc_now,
)

__all__ = ["NAMING_CONVENTION", "JSONType", "UTCDateTime", "metadata", "upsert_insert", "utc_now"]
