from __future__ import annotations

import pytest

from api.server.cache import ResolveCache, ResolveKey, etag_matches, make_etag


def test_put_get_and_invalidate() -> None:
    cache = ResolveCache(ttl=60, maxsize=10)
    entry = cache.put("k", b"body", generation=cache.generation)
    assert cache.get("k") == entry
    assert entry.etag == make_etag(b"body")
    cache.invalidate()
    assert cache.get("k") is None


def test_fill_started_before_a_write_is_discarded() -> None:
    cache = ResolveCache(ttl=60, maxsize=10)
    started = cache.generation
    cache.invalidate()  # a write committed while the read was in flight
    entry = cache.put("k", b"old", generation=started)
    assert entry.body == b"old"  # still served to that one request
    assert cache.get("k") is None  # but never cached


def test_expiry_and_size_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("api.server.cache.time.monotonic", lambda: now[0])
    cache = ResolveCache(ttl=5, maxsize=2)
    for key in ("a", "b", "c"):
        cache.put(key, key.encode(), generation=0)
    assert cache.get("a") is None
    assert cache.get("c") is not None
    now[0] += 6
    assert cache.get("c") is None


@pytest.mark.parametrize(
    ("header", "match"),
    [('"abc"', True), ('W/"abc"', True), ('"x", "abc"', True), ("*", True), ('"abcd"', False)],
)
def test_etag_matching(header: str, match: bool) -> None:
    assert etag_matches(header, '"abc"') is match


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", ResolveKey.of("a/p")),
        (b"label=staging", ResolveKey.of("a/p", label="staging")),
        (b"label=latest", ResolveKey.of("a/p", label="latest")),
        (b"version=3", ResolveKey.of("a/p", version=3)),
        (b"version=0", None),
        (b"version=12345678901", None),
        (b"label=", None),
        (b"label=st%61ging", None),
        (b"label=a&version=1", None),
        (b"tag=x", None),
    ],
)
def test_a_plain_request_gets_the_key_the_route_uses(
    query: bytes, expected: ResolveKey | None
) -> None:
    assert ResolveKey.from_request("a/p", query) == expected


def test_the_default_label_and_a_number_make_distinct_keys() -> None:
    assert ResolveKey.of("p") == ResolveKey("p", "production", None)
    assert ResolveKey.of("p", label="staging", version=2) == ResolveKey("p", None, 2)


@pytest.mark.parametrize("name", ["Bad Name", "a" * 201, "/p", ""])
def test_a_name_the_route_would_refuse_gets_no_key(name: str) -> None:
    assert ResolveKey.from_request(name, b"") is None
