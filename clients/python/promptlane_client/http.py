"""HTTP without I/O, shared by Client and AsyncClient: calls, headers, paths, error mapping.

A `Call` says everything about one REST call but its sending: method, path, query, body and
how to read the answer (promptlane_client.endpoints builds one per call). Each client only
sends it, through httpx.Client or httpx.AsyncClient, and reads the answer with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote

import httpx

from promptlane_client.errors import APIError, ConnectionFailedError, PromptlaneError

DEFAULT_URL: Final = "http://127.0.0.1:8000"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One REST call, unsent: what to ask, and how to read the answer."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] | None = None
    min_timeout: float | None = None  # seconds the call may need, whatever the client's timeout

    def options(self, client_timeout: float = 0.0) -> dict[str, Any]:
        """Return httpx's keyword arguments for the call, given the client's timeout."""
        out: dict[str, Any] = {}
        if self.params is not None:
            out["params"] = self.params
        if self.json is not None:
            out["json"] = self.json
        if self.content is not None:
            out["content"] = self.content
        if self.headers is not None:
            out["headers"] = self.headers
        if self.min_timeout is not None:
            out["timeout"] = max(client_timeout, self.min_timeout)
        return out


def read_object(response: httpx.Response) -> dict[str, Any]:
    """Read a JSON object."""
    result: dict[str, Any] = response.json()
    return result


def read_list(response: httpx.Response) -> list[dict[str, Any]]:
    """Read a JSON array of objects."""
    result: list[dict[str, Any]] = response.json()
    return result


def read_created(response: httpx.Response) -> tuple[dict[str, Any], bool]:
    """Read a stored object and whether it is new (201) or an identical one existed (200)."""
    return read_object(response), response.status_code == 201


def read_nothing(response: httpx.Response) -> None:
    """Read nothing (the status said it all)."""


def read_response(response: httpx.Response) -> httpx.Response:
    """Keep the whole response (its status and ETag matter)."""
    return response


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
