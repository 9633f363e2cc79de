"""The rule every outbound URL an admin stores must meet (connections' api_base, webhook URLs).

http or https, a host, no user or password, no query or fragment, printable ASCII, at most
2,000 characters. Where such a URL may point (internal addresses included) is the admins'
call: only they store one, and what comes back from it is never shown in full.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Final

URL_MAX: Final = 2_000


def endpoint_url_problem(url: str, field: str) -> str | None:
    """Say what is wrong with an endpoint URL given as `field`, or None."""
    if len(url) > URL_MAX:
        return f"{field} is longer than {URL_MAX} characters"
    if not re.fullmatch(r"[\x21-\x7e]+", url):
        return f"{field} must be printable ASCII without spaces or control characters"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"{field} must be an http:// or https:// URL"
    if "@" in parts.netloc:
        return f"{field} must not hold a user or password"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return f"{field} must not have a query or fragment"
    try:
        port = parts.port
    except ValueError:
        return f"{field} has an invalid port"
    if not parts.hostname or port == 0:
        return f"{field} needs a host"
    return None
