"""The store interface: where every workspace, session, client, task, artifact and event lives.

`Store` opens transactions (`taskweave.store.transaction.Transaction`, the
unit of work the domain talks to) and says what else it can do: back itself
up, take automatic snapshots, restore, wait for another process's change.
Callers ask it, never its class.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypedDict

from taskweave.errors import StoreError
from taskweave.store.schema import SCHEMA_VERSION
from taskweave.store.transaction import Transaction
from taskweave.telemetry import NOTHING, Telemetry

if TYPE_CHECKING:
    from taskweave.store.snapshots import SnapshotPolicy


class StoreDescription(TypedDict, total=False):
    kind: str
    location: str
    schema_version: int
    sync: str


class BackupReport(TypedDict):
    path: str
    bytes: int
    taken_at: float


class RestoreReport(TypedDict):
    restored_from: str
    schema_version: int
    previous_content_saved_to: str


def newer_schema(location: str, version: int) -> StoreError:
    return StoreError(
        f"The store {location} has schema version {version}, newer than this taskweave understands ({SCHEMA_VERSION}).",
        hint="Upgrade taskweave (pip install -U taskweave), or use another store.",
    )


class Store(ABC):
    """A place where every workspace, session, client, task, artifact and event lives."""

    url: str
    #: The schema version of what is stored: this taskweave's, unless the store was opened read-only.
    schema_version: int
    #: Whether transactions can run side by side (a pool of connections). When they cannot,
    #: they queue on one connection anyway, and a server calls the domain from its event loop:
    #: a worker thread would add a hand-off and contention for the interpreter lock, no concurrency.
    concurrent_transactions: bool = False
    #: Where the store reports how long writers wait for and hold its write lock.
    telemetry: Telemetry = NOTHING

    @abstractmethod
    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """One transaction: committed when the block exits normally, rolled back otherwise."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def describe(self) -> StoreDescription:
        """What this store is, for diagnostics: kind, location, schema version."""

    @abstractmethod
    def check(self) -> list[str]:
        """Verify integrity and schema; the problems found, in plain words (empty when sound)."""

    @abstractmethod
    def backup(self, target: str | None = None) -> BackupReport:
        """Write a consistent snapshot to `target` (None: the store's own default place) while others keep writing."""

    def restore(self, source: str, *, force: bool = False) -> RestoreReport:
        """Replace the store's content with a snapshot `backup` wrote."""
        raise StoreError(
            f"taskweave cannot restore a {self.describe()['kind']} store itself.",
            hint="Use the database's own restore tools.",
        )

    def now(self) -> float:
        """The time by which this store's leases and expiries are measured (seconds since the epoch)."""
        return time.time()

    def snapshot_policy(self, environ: Mapping[str, str] = os.environ) -> SnapshotPolicy | None:
        """The automatic snapshots a running server takes of this store; None when it has its own backup tools."""
        return None

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Mark this process as a server using the store while the block runs (for `restore`)."""
        yield

    def wait_for_change(self, timeout: float) -> None:
        """Block until another writer may have changed something, or `timeout` passes.

        This default polls; a store with push notifications returns as soon as one arrives.
        """
        time.sleep(timeout)
