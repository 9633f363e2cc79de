"""The clients' methods by area, each written once for Client and once for AsyncClient.

Both build their requests with promptlane_client.endpoints; a mixin here only says which call a
method sends and how it is named, and the client it is mixed into sends it (`_send`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TypeVar

from promptlane_client.http import Call

T = TypeVar("T")


class Sends(ABC):
    """A client that sends a call and reads its answer."""

    @abstractmethod
    def _send(self, call: Call[T]) -> T:
        """Send `call` and return what it reads from the answer."""


class AsyncSends(ABC):
    """An asynchronous client that sends a call and reads its answer."""

    @abstractmethod
    async def _send(self, call: Call[T]) -> T:
        """Send `call` and return what it reads from the answer."""
