"""How the server calls the domain: on its event loop, or on a worker thread.

A stdio process serves one client: a domain call runs on the event loop itself,
as a worker-thread hop would cost more than the call. A daemon serves many: on
a store whose transactions queue on one connection (SQLite) a call still runs
on the loop, but must not wait there for a lock, since the daemon would stop
answering everyone; such a call is run again on a worker thread, where it waits
its turn (bounded). While one call waits there, the calls after it queue on the
loop behind it rather than each taking a thread of its own: threads contending
for one connection and the interpreter lock would halve the daemon's throughput.
On a pooled store (PostgreSQL) every call runs on a worker thread, which lets
one client's slow round trip leave the others running.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, TypeVarTuple, Unpack

import anyio
import anyio.to_thread

from taskweave.store import Store, waiting

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class RunDomain(Protocol):
    def __call__(self, function: Callable[[Unpack[Ts]], T], /, *args: Unpack[Ts]) -> Awaitable[T]: ...


async def run_inline(function: Callable[[Unpack[Ts]], T], /, *args: Unpack[Ts]) -> T:
    return function(*args)


async def run_in_thread(function: Callable[[Unpack[Ts]], T], /, *args: Unpack[Ts]) -> T:
    return await anyio.to_thread.run_sync(function, *args)


class InlineUnlessWaiting:
    """Inline, unless a lock is taken: the store raises `WouldBlock` before doing anything, and the call
    goes to a worker thread; the calls arriving meanwhile wait on the loop for it to finish (bounded:
    past the bound a call waits on a thread too, where the store says what holds it up)."""

    def __init__(self) -> None:
        self._lane = anyio.Lock()

    async def __call__(self, function: Callable[[Unpack[Ts]], T], /, *args: Unpack[Ts]) -> T:
        if not self._lane.locked():
            try:
                with waiting.no_waiting():
                    return function(*args)
            except waiting.WouldBlock:
                pass
        entered = False
        with anyio.move_on_after(waiting.LOCK_WAIT_SECONDS):
            await self._lane.acquire()
            entered = True
        if not entered:
            return await anyio.to_thread.run_sync(function, *args)
        try:
            try:
                with waiting.no_waiting():
                    return function(*args)
            except waiting.WouldBlock:
                return await anyio.to_thread.run_sync(function, *args)
        finally:
            self._lane.release()


def runner_for(store: Store, *, serves_many: bool) -> RunDomain:
    if not serves_many:
        return run_inline
    return run_in_thread if store.concurrent_transactions else InlineUnlessWaiting()
