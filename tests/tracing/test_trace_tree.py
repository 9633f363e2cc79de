"""The trace tree: nesting, generations in place, orphans, cycles and depth all bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracing.models import Generation, Span
from tracing.traces.schemas import SpanNode
from tracing.traces.tree import MAX_DEPTH, build_tree

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sp(span_id: str, parent: str | None, at: int = 0) -> Span:
    return Span(
        trace_id="t" * 32,
        span_id=span_id,
        parent_span_id=parent,
        name=f"span {span_id}",
        kind="internal",
        started_at=T0 + timedelta(seconds=at),
    )


def gen(span_id: str, parent: str | None, id_: int) -> Generation:
    return Generation(
        id=id_,
        trace_id="t" * 32,
        span_id=span_id,
        parent_span_id=parent,
        source="gateway",
        started_at=T0,
    )


def walk(nodes: list[SpanNode]) -> list[str]:
    out: list[str] = []
    for node in nodes:
        out.append(node.span_id)
        out.extend(walk(node.children))
    return out


def test_spans_nest_by_parent_sorted_by_start() -> None:
    roots = build_tree([sp("b", "a", 2), sp("a", None), sp("c", "a", 1)], [gen("b", "a", 1)])
    (root,) = roots
    assert [c.span_id for c in root.children] == ["c", "b"]
    assert root.children[1].generation is not None
    assert root.children[1].generation.id == 1


def test_a_generation_without_a_span_is_a_node_under_its_parent() -> None:
    (root,) = build_tree([sp("a", None)], [gen("g", "a", 7)])
    (node,) = root.children
    assert (node.name, node.kind, node.generation and node.generation.id) == (None, None, 7)


def test_orphans_and_cycles_become_roots_and_every_node_appears_once() -> None:
    spans = [sp("a", None), sp("o", "missing"), sp("x", "y", 1), sp("y", "x", 2), sp("s", "s")]
    roots = build_tree(spans, [])
    assert sorted(walk(roots)) == ["a", "o", "s", "x", "y"]
    assert {r.span_id for r in roots} == {"a", "o", "x", "s"}


def test_nesting_depth_is_bounded() -> None:
    chain = [sp("0", None)] + [sp(str(i), str(i - 1), i) for i in range(1, 200)]
    roots = build_tree(chain, [])
    assert len(walk(roots)) == 200
    assert len(roots) == 4  # restarted every MAX_DEPTH levels

    def depth(node: SpanNode) -> int:
        return 1 + max((depth(c) for c in node.children), default=0)

    assert max(depth(r) for r in roots) == MAX_DEPTH
