"""Where backups go, and the rotating automatic snapshots a running server takes.

Any number of server processes may share a store; whichever notices first
that a snapshot is due takes it, under a file lock, and the others skip. A
snapshot is skipped as well when the store has not changed since the last
one. `TASKWEAVE_BACKUP_INTERVAL` (seconds, `0` turns them off),
`TASKWEAVE_BACKUP_KEEP` and `TASKWEAVE_BACKUP_DIR` configure them.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from taskweave.errors import InvalidInput
from taskweave.store.base import BackupReport

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 3600
DEFAULT_KEEP = 24
AUTOMATIC_PREFIX = "auto-"


class FileStore(Protocol):
    """A store kept in one file, which can copy itself while in use."""

    path: Path

    def backup(self, target: str | None = None) -> BackupReport: ...


def backup_dir(store: FileStore, environ: Mapping[str, str] = os.environ) -> Path:
    configured = environ.get("TASKWEAVE_BACKUP_DIR")
    return Path(configured).expanduser() if configured else store.path.parent / "backups"


def backup_name(store: FileStore, *, automatic: bool = False) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{AUTOMATIC_PREFIX if automatic else ''}{store.path.stem}-{stamp}.db"


def _env_number(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidInput(f"{name} is {raw!r}.", hint=f"Set {name} to a whole number of 0 or more.")
    return value


@dataclass(frozen=True)
class SnapshotPolicy:
    store: FileStore
    interval_seconds: int
    keep: int
    directory: Path

    @classmethod
    def from_env(cls, store: FileStore, environ: Mapping[str, str] = os.environ) -> SnapshotPolicy:
        return cls(
            store,
            interval_seconds=_env_number(environ, "TASKWEAVE_BACKUP_INTERVAL", DEFAULT_INTERVAL_SECONDS),
            keep=max(1, _env_number(environ, "TASKWEAVE_BACKUP_KEEP", DEFAULT_KEEP)),
            directory=backup_dir(store, environ),
        )

    def automatic_snapshots(self) -> list[Path]:
        """Oldest first."""
        return sorted(self.directory.glob(f"{AUTOMATIC_PREFIX}{self.store.path.stem}-*.db"))

    def take_if_due(self) -> BackupReport | None:
        """Take a snapshot when the newest is older than the interval and the store changed since."""
        if self.interval_seconds == 0:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".snapshot.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            existing = self.automatic_snapshots()
            if existing:
                newest = existing[-1].stat().st_mtime
                if time.time() - newest < self.interval_seconds or _last_write(self.store) <= newest:
                    return None
            taken = self.store.backup(str(self.directory / backup_name(self.store, automatic=True)))
            for old in self.automatic_snapshots()[: -self.keep]:
                old.unlink(missing_ok=True)
        log.info("automatic snapshot %s (%d bytes)", taken["path"], taken["bytes"])
        return taken


def _last_write(store: FileStore) -> float:
    times = [path.stat().st_mtime for path in (store.path, store.path.with_name(store.path.name + "-wal")) if path.exists()]
    return max(times, default=0.0)
