"""Where taskweave keeps its state: `open_store` picks the implementation from the location."""

from __future__ import annotations

import os

from taskweave.errors import StoreError
from taskweave.store.base import Store, Transaction

__all__ = ["Store", "Transaction", "open_store", "store_location"]


def store_location(location: str | None = None) -> str:
    """The explicit location, else `$TASKWEAVE_STORE`, else the SQLite file in the user data dir."""
    if location:
        return location
    if env := os.environ.get("TASKWEAVE_STORE"):
        return env
    from taskweave.store.sqlite import default_path

    return str(default_path())


def open_store(location: str | None = None) -> Store:
    resolved = store_location(location)
    if resolved.startswith(("postgresql://", "postgres://")):
        raise StoreError(
            "PostgreSQL stores are not supported by this version of taskweave.",
            hint="Use a SQLite file path with --store or TASKWEAVE_STORE.",
        )
    from taskweave.store.sqlite import open_sqlite

    return open_sqlite(resolved)
