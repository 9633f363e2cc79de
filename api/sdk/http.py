"""HTTP details shared by the sync and async clients: URL, headers, paths, error mapping."""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

import httpx

from api.sdk.errors import APIError, ConnectionFailedError, PromptlaneError

DEFAULT_URL: Final = "http://127.0.0.1:8000"


def default_headers(api_key: str | None) -> dict[str, str]:
    """Return the headers every request carries."""
    headers = {"User-Agent": "promptlane-client"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def prompt_path(name: str) -> str:
    """Return the URL path of a prompt (its '/' separators kept)."""
    return "/v1/prompts/" + quote(name, safe="/")


def connection_failed(url: str, exc: httpx.TransportError) -> ConnectionFailedError:
    """Return the error for a request that never got an answer."""
    return ConnectionFailedError(f"cannot reach promptlane at {url}: {exc or type(exc).__name__}")


def check_response(response: httpx.Response) -> httpx.Response:
    """Return `response`, or raise APIError with its problem document if it is 4xx/5xx."""
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.reason_phrase, "detail": response.text[:200]}
        raise APIError(response.status_code, problem if isinstance(problem, dict) else {})
    return response


def is_outage(exc: PromptlaneError) -> bool:
    """Return whether an error means the server is down or failing (not that we asked wrong)."""
    if isinstance(exc, APIError):
        return exc.status >= 500 or exc.status in (408, 429)
    return True
