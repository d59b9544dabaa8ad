"""Copying a whole store into another one: SQLite to PostgreSQL and back.

The source is read in one read transaction, a consistent snapshot while others
keep working; the destination is written in one write transaction and its
row counts are verified before the commit, so it ends up with all of the
source or with nothing new. `store_meta` is not copied: opening the
destination already brought its schema to the same version as the source's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from taskweave.errors import StoreError
from taskweave.store import POSTGRES_SCHEMES, Store, Transaction, open_store
from taskweave.store.records import Row
from taskweave.store.schema import TABLES

BATCH_ROWS = 500

# How each table is paged through in a stable order: its primary key.
PAGE_KEYS: dict[str, tuple[str, ...]] = {
    "task_dependencies": ("task_id", "depends_on"),
    "events": ("session_id", "seq"),
    "idempotency_keys": ("session_id", "key"),
}
# Columns pointing into their own table, filled in once every row exists (a parent may come later in key order).
SELF_REFERENCES: dict[str, tuple[str, ...]] = {"tasks": ("parent_id",)}
# Opening the destination already wrote its own store_meta, schema version included.
COPIED = tuple(table for table in TABLES if table != "store_meta")


@dataclass(frozen=True)
class CopyReport:
    source: str
    destination: str
    counts: dict[str, int]


def copy_location(source: str, destination: str, *, force: bool = False) -> CopyReport:
    """Open both stores (a SQLite source must exist) and copy the first into the second."""
    if not source.startswith(POSTGRES_SCHEMES) and not Path(source).expanduser().is_file():
        raise StoreError(f"There is no store at {source}.", hint="Give the path of an existing store file or a postgresql:// URL.")
    with closing(open_store(source)) as reader, closing(open_store(destination)) as writer:
        counts = copy_store(reader, writer, force=force)
        return CopyReport(reader.url, writer.url, counts)


def copy_store(source: Store, destination: Store, *, force: bool = False) -> dict[str, int]:
    """Copy every row of `source` into `destination`; the row count per table, verified."""
    if source.url == destination.url:
        raise StoreError(f"The source and the destination are both {source.url}.", hint="Give two different stores.")
    with source.transaction(write=False) as reader, destination.transaction() as writer:
        present = _counts(writer)
        if any(present.values()):
            if not force:
                raise StoreError(
                    f"The destination {destination.url} is not empty ({_describe(present)}).",
                    hint="Copy into an empty store, or pass --force to replace everything in it.",
                )
            for table in reversed(COPIED):
                writer.run(f"DELETE FROM {table}")
        expected = _counts(reader)
        for table in COPIED:
            _copy_table(reader, writer, table)
        copied = _counts(writer)
        if copied != expected:
            raise StoreError(
                f"The copy does not match the source: {_describe(copied)} instead of {_describe(expected)}. "
                "Nothing was written.",
                hint="Run `taskweave check` on both stores, then retry.",
            )
    return copied


def _copy_table(reader: Transaction, writer: Transaction, table: str) -> None:
    deferred = SELF_REFERENCES.get(table, ())
    for rows in _pages(reader, table):
        columns = list(rows[0])
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        for row in rows:
            writer.run(insert, *(None if column in deferred else row[column] for column in columns))
    if deferred:
        key = PAGE_KEYS.get(table, ("id",))
        match_key = " AND ".join(f"{column} = ?" for column in key)
        for rows in _pages(reader, table):
            for row in rows:
                for column in deferred:
                    if row[column] is not None:
                        writer.run(
                            f"UPDATE {table} SET {column} = ? WHERE {match_key}", row[column], *(row[k] for k in key)
                        )


def _pages(reader: Transaction, table: str) -> Iterator[list[Row]]:
    """The table's rows in key order, a batch at a time, so a large store never sits in memory whole."""
    key = PAGE_KEYS.get(table, ("id",))
    order = ", ".join(key)
    after: tuple[object, ...] = ()
    while True:
        where = f"WHERE ({order}) > ({', '.join('?' for _ in after)}) " if after else ""
        rows = reader.all(f"SELECT * FROM {table} {where}ORDER BY {order} LIMIT ?", *after, BATCH_ROWS)
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][column] for column in key)


def _counts(tx: Transaction) -> dict[str, int]:
    counts = tx.row_counts()
    return {table: counts[table] for table in COPIED}


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n) or "no rows"
