"""The rollups' SQL statements, built once per shape.

Statements are immutable, and building one (its table-valued `unnest` above all) costs more
than running it on a small batch. On PostgreSQL rows go as one array per column
(`INSERT … SELECT FROM unnest(…)`): a short statement, prepared once, whatever the number of
rows; SQLite takes an executemany.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def element(type_: Any) -> Any:
    """Return the array element type a column's values are sent as (PostgreSQL)."""
    type_ = getattr(type_, "impl", type_)  # UTCDateTime: its timestamptz
    return sa.Text() if isinstance(type_, sa.String) else type_


@functools.cache
def upsert(
    dialect: str, table: sa.Table, columns: tuple[str, ...], key: tuple[str, ...],
    returning: tuple[str, ...],
) -> Any:  # fmt: skip
    """Return an upsert adding the non-key columns, built once per shape (immutable)."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement: Any
    if dialect == "postgresql":
        arrays = [
            sa.bindparam(f"p_{name}", type_=postgresql.ARRAY(element(table.c[name].type)))
            for name in columns
        ]
        source = sa.func.unnest(*arrays).table_valued(*columns).render_derived()
        insert = insert.from_select(columns, sa.select(*(source.c[name] for name in columns)))
    added = {name: table.c[name] + insert.excluded[name] for name in columns if name not in key}
    statement = insert.on_conflict_do_update(index_elements=list(key), set_=added)
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
    return statement


@functools.cache
def set_latency(dialect: str, table: sa.Table) -> Any:
    """Return the UPDATE of rollup rows' packed latency by id, built once."""
    if dialect == "postgresql":
        source = (
            sa.func.unnest(
                sa.bindparam("p_id", type_=postgresql.ARRAY(sa.Integer)),
                sa.bindparam("p_latency", type_=postgresql.ARRAY(sa.LargeBinary)),
            )
            .table_valued("id", "latency")
            .render_derived()
        )
        return sa.update(table).where(table.c.id == source.c.id).values(latency=source.c.latency)
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("_id"))
        .values(latency=sa.bindparam("_latency"))
    )
