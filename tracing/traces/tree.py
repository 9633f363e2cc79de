"""A trace's spans and generations nested into a tree: pure, bounded in depth.

Spans nest under their parent; a generation sits on its span's node, or is a node of its own
when its span was not ingested (gateway and eval-run calls). A node whose parent is missing,
a node deeper than `MAX_DEPTH` and a node on a cycle of parent ids become roots, so every
span and generation appears exactly once and the answer's nesting stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from tracing.models import Generation, Span
from tracing.schemas import GenerationSummary
from tracing.traces.schemas import SpanNode

MAX_DEPTH: Final = 64


@dataclass
class _Node:
    span: Span | None
    generation: Generation | None
    children: list[_Node] = field(default_factory=list)

    @property
    def span_id(self) -> str:
        return self.span.span_id if self.span is not None else self._generation().span_id

    @property
    def parent_span_id(self) -> str | None:
        return (self.span or self._generation()).parent_span_id

    @property
    def started_at(self) -> object:
        return (self.span or self._generation()).started_at

    def _generation(self) -> Generation:
        assert self.generation is not None  # a node has a span, a generation, or both
        return self.generation


def _nodes(spans: Iterable[Span], generations: Iterable[Generation]) -> dict[str, _Node]:
    nodes = {s.span_id: _Node(s, None) for s in spans}
    for g in generations:
        node = nodes.get(g.span_id)
        if node is None:
            nodes[g.span_id] = _Node(None, g)
        else:
            node.generation = g
    return nodes


def _sorted(nodes: Iterable[_Node]) -> list[_Node]:
    return sorted(nodes, key=lambda n: (str(n.started_at), n.span_id))


def _shape(nodes: dict[str, _Node]) -> list[_Node]:
    """Attach children to parents; return the roots (orphans, too deep, cycles included)."""
    children: dict[str, list[_Node]] = {}
    roots: list[_Node] = []
    for node in nodes.values():
        parent = node.parent_span_id
        if parent is None or parent not in nodes or parent == node.span_id:
            roots.append(node)
        else:
            children.setdefault(parent, []).append(node)
    placed: set[str] = set()
    queue = [(root, 0) for root in roots]
    while queue or len(placed) < len(nodes):
        if not queue:  # the rest hang on cycles: break each at its earliest node
            rest = _sorted(n for n in nodes.values() if n.span_id not in placed)
            roots.append(rest[0])
            queue.append((rest[0], 0))
        node, depth = queue.pop()
        placed.add(node.span_id)
        for child in _sorted(children.get(node.span_id, ())):
            if child.span_id in placed:
                continue
            if depth + 1 >= MAX_DEPTH:
                roots.append(child)
                queue.append((child, 0))
            else:
                node.children.append(child)
                queue.append((child, depth + 1))
    return _sorted(roots)


def _read(node: _Node) -> SpanNode:
    span, generation = node.span, node.generation
    summary = GenerationSummary.model_validate(generation) if generation is not None else None
    children = [_read(child) for child in node.children]
    if span is None:
        assert summary is not None
        return SpanNode(
            span_id=summary.span_id,
            parent_span_id=summary.parent_span_id,
            name=None,
            kind=None,
            service_name=summary.service_name,
            started_at=summary.started_at,
            duration_ms=summary.duration_ms,
            is_error=summary.is_error,
            generation=summary,
            children=children,
        )
    return SpanNode(
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        name=span.name,
        kind=span.kind,
        service_name=span.service_name,
        scope=span.scope,
        started_at=span.started_at,
        duration_ms=span.duration_ms,
        is_error=span.is_error,
        status_message=span.status_message,
        prompt=span.prompt_name,
        version=span.prompt_version,
        label=span.prompt_label,
        attributes=span.attributes,
        generation=summary,
        children=children,
    )


def build_tree(spans: Sequence[Span], generations: Sequence[Generation]) -> list[SpanNode]:
    """Return the trace's root nodes, children nested and sorted by start time."""
    return [_read(root) for root in _shape(_nodes(spans, generations))]
