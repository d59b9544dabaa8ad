"""Waiting for the store's locks, always bounded, and never on an event loop.

A writer that finds the store locked waits at most `LOCK_WAIT_SECONDS`, then
gets a clear `StoreBusy` error: a stopped or hung process holding the lock
cannot block the others for good. A caller that must not wait at all (a server
calling the store from its event loop) marks the call with `no_waiting()`: the
store then raises `WouldBlock` before doing anything, and the caller runs the
call again where waiting is harmless (a worker thread).
"""

from __future__ import annotations

import fcntl
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import IO

LOCK_WAIT_SECONDS = 15.0

_no_waiting: ContextVar[bool] = ContextVar("taskweave_no_waiting", default=False)


class WouldBlock(Exception):
    """The store would have to wait for a lock, and the caller asked it not to."""


@contextmanager
def no_waiting() -> Iterator[None]:
    token = _no_waiting.set(True)
    try:
        yield
    finally:
        _no_waiting.reset(token)


def take(lock: threading.Lock) -> bool:
    """Acquire a lock of this process: at once under `no_waiting` (else `WouldBlock`), or within the bound."""
    if lock.acquire(blocking=False):
        return True
    if _no_waiting.get():
        raise WouldBlock
    return lock.acquire(timeout=LOCK_WAIT_SECONDS)


@dataclass
class _Request:
    granted: threading.Event = field(default_factory=threading.Event)
    abandoned: bool = False
    decided: threading.Lock = field(default_factory=threading.Lock)


class FileTurn:
    """An exclusive lock on a file, which every process sharing a store takes before writing.

    A waiting writer sleeps in the kernel until the holder releases it (FIFO-ish and without
    polling, so a busy store never sits idle between polls); the blocking call runs on a thread
    of its own, so the wait can end at the bound.
    """

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self._requests: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._waiter: threading.Thread | None = None

    def acquire(self) -> bool:
        """True once the lock is held; False when it stayed taken for `LOCK_WAIT_SECONDS`."""
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if _no_waiting.get():
                raise WouldBlock from None
        request = _Request()
        self._start_waiter()
        self._requests.put(request)
        if request.granted.wait(LOCK_WAIT_SECONDS):
            return True
        with request.decided:
            if request.granted.is_set():
                return True
            request.abandoned = True
        return False

    def release(self) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._waiter is not None:
            self._requests.put(None)

    def _start_waiter(self) -> None:
        if self._waiter is None:
            self._waiter = threading.Thread(target=self._wait_in_turn, name="taskweave-writer-turn", daemon=True)
            self._waiter.start()

    def _wait_in_turn(self) -> None:
        while (request := self._requests.get()) is not None:
            fcntl.flock(self._file, fcntl.LOCK_EX)
            with request.decided:
                if request.abandoned:
                    fcntl.flock(self._file, fcntl.LOCK_UN)
                else:
                    request.granted.set()


class KeyedTurns:
    """One holder per key at a time in this process (bounded like the store's locks), for writers of one
    session to queue here instead of each holding a pooled connection while it waits for the session's row."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def turn(self, key: str) -> Iterator[bool]:
        """Yields True once it is this caller's turn, False when the bound passed first."""
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            if not lock.acquire(timeout=LOCK_WAIT_SECONDS):
                yield False
                return
            try:
                yield True
            finally:
                lock.release()
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
