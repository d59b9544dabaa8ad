"""Copying a whole store into another one: SQLite to PostgreSQL and back.

The source is only read, never created, migrated or changed: one read
transaction, a consistent snapshot while others keep working (a SQLite source
of an older schema is copied as it is into a temporary file, which is
upgraded, and copied from). The destination is written in one write
transaction and its row counts are verified before the commit, so it ends up
with all of the source or with nothing new. `store_meta` is not copied:
opening the destination already brought its schema to this taskweave's
version. Text never holds NUL characters on any store: a NUL that an old
SQLite store kept is copied as U+FFFD, and counted.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from taskweave.errors import StoreError
from taskweave.store import Store, Transaction, open_store
from taskweave.store.records import Row
from taskweave.store.schema import SCHEMA_VERSION, TABLES

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


NUL_STANDIN = "\ufffd"


@dataclass(frozen=True)
class CopyReport:
    source: str
    destination: str
    counts: dict[str, int]
    nul_replaced: int


def copy_location(source: str, destination: str, *, force: bool = False) -> CopyReport:
    """Copy the existing store at `source` into the one at `destination` (created if need be)."""
    with closing(open_store(source, read_only=True)) as original, _current(original) as reader:
        with closing(open_store(destination)) as writer:
            counts, replaced = copy_store(reader, writer, force=force)
            return CopyReport(original.url, writer.url, counts, replaced)


@contextmanager
def _current(store: Store) -> Iterator[Store]:
    """`store`, or an upgraded temporary copy of it when its schema is older: the original stays as it is."""
    if store.schema_version == SCHEMA_VERSION:
        yield store
        return
    with tempfile.TemporaryDirectory(prefix="taskweave-copy-") as scratch:
        try:
            taken = store.backup(str(Path(scratch) / "source.db"))
        except StoreError as error:
            raise StoreError(
                f"The store {store.url} has schema version {store.schema_version}, older than this taskweave's "
                f"({SCHEMA_VERSION}), and it cannot be copied aside to be upgraded.",
                hint="Upgrade it first: back it up, then start `taskweave serve` on it once.",
            ) from error
        with closing(open_store(taken["path"])) as upgraded:
            yield upgraded


def copy_store(source: Store, destination: Store, *, force: bool = False) -> tuple[dict[str, int], int]:
    """Copy every row of `source` into `destination`; the row count per table, verified, and the NUL
    characters replaced."""
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
        replaced = sum(_copy_table(reader, writer, table) for table in COPIED)
        copied = _counts(writer)
        if copied != expected:
            raise StoreError(
                f"The copy does not match the source: {_describe(copied)} instead of {_describe(expected)}. "
                "Nothing was written.",
                hint="Run `taskweave check` on both stores, then retry.",
            )
    return copied, replaced


def _copy_table(reader: Transaction, writer: Transaction, table: str) -> int:
    """Copy one table's rows; how many NUL characters its text held."""
    deferred = SELF_REFERENCES.get(table, ())
    replaced = 0
    for rows in _pages(reader, table):
        columns = [column for column in rows[0] if column not in reader.own_columns.get(table, ())]
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        for row in rows:
            values = []
            for column in columns:
                value = None if column in deferred else row[column]
                if isinstance(value, str) and "\x00" in value:
                    replaced += value.count("\x00")
                    value = value.replace("\x00", NUL_STANDIN)
                values.append(value)
            writer.run(insert, *values)
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
    return replaced


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
