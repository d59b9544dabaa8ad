"""Where taskweave keeps its state: `open_store` picks the implementation from the location."""

from __future__ import annotations

import os
import re

from taskweave.errors import StoreError
from taskweave.store.base import Store
from taskweave.store.transaction import Transaction

__all__ = ["Store", "Transaction", "open_store", "store_location"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def store_location(location: str | None = None) -> str:
    """The explicit location, else `$TASKWEAVE_STORE`, else the SQLite file in the user data dir."""
    if location:
        return location
    if env := os.environ.get("TASKWEAVE_STORE"):
        return env
    from taskweave.store.sqlite import default_path

    return str(default_path())


def open_store(location: str | None = None, *, read_only: bool = False) -> Store:
    """A `postgresql://` (or `postgres://`) URL opens PostgreSQL; anything else is a SQLite file path.

    `read_only`: for commands that only read, which never create, migrate or change the store.
    """
    resolved = store_location(location)
    if resolved.startswith(POSTGRES_SCHEMES):
        from taskweave.store.postgres import open_postgres

        return open_postgres(resolved, read_only=read_only)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", resolved):
        raise StoreError(
            f"The store location {re.sub(r'//[^@/]*@', '//', resolved)!r} looks like a URL, but not a postgresql:// one.",
            hint="Give a SQLite file path, or a URL of the form postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE.",
        )
    from taskweave.store.sqlite import open_sqlite

    return open_sqlite(resolved, read_only=read_only)
