"""Bounded, read-only access to the user's tree, shared by every detection step.

Detection runs at session start on trees of any size, so every directory it
reads goes through one `Scanner` with a budget of directory entries: a huge
tree, a symlink loop or an unreadable directory costs at most that budget and
is recorded, never raised.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

DEFAULT_BUDGET = 12_000
"""Directory entries one detection may read in total."""

MAX_ENTRIES_PER_DIR = 5_000
"""Entries read from one directory; a larger directory is truncated."""


@dataclass(frozen=True)
class Listing:
    """The names in one directory, split into files and directories."""

    files: frozenset[str] = frozenset()
    dirs: frozenset[str] = frozenset()
    links: frozenset[str] = frozenset()
    """Directories that are symlinks: they match markers but are never walked."""


@dataclass
class Scanner:
    """Lists directories, caching each listing and charging it to a budget."""

    budget: int = DEFAULT_BUDGET
    spent: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    truncated: bool = False
    _cache: dict[str, Listing] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.budget

    def list(self, path: str) -> Listing:
        """The listing of `path`; empty when unreadable or over budget."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        listing = self._read(path)
        self._cache[path] = listing
        return listing

    def _read(self, path: str) -> Listing:
        if self.exhausted:
            self.truncated = True
            return Listing()
        files: set[str] = set()
        dirs: set[str] = set()
        links: set[str] = set()
        truncated = False
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    self.spent += 1
                    if len(files) + len(dirs) >= MAX_ENTRIES_PER_DIR or self.exhausted:
                        truncated = True
                        break
                    if not _is_dir(entry):
                        files.add(entry.name)
                        continue
                    dirs.add(entry.name)
                    if entry.is_symlink():
                        links.add(entry.name)
        except OSError as error:
            self.errors[path] = error.strerror or type(error).__name__
            return Listing()
        self.truncated |= truncated
        return Listing(frozenset(files), frozenset(dirs), frozenset(links))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def read_head(path: str, limit: int) -> bytes | None:
    """The first `limit` bytes of a regular file; None for anything else or on error.

    Only regular files are opened: a FIFO or device named like a manifest would
    block or stream forever.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


def read_text_head(path: str, limit: int) -> str | None:
    """`read_head` decoded as UTF-8 (undecodable bytes replaced)."""
    data = read_head(path, limit)
    return None if data is None else data.decode("utf-8", errors="replace")
