"""How the server calls the domain: on its event loop, or on a worker thread.

A stdio process serves one client, and a store whose transactions queue on
one connection serves one call at a time: either way a domain call runs on
the event loop itself, as a worker-thread hop would cost more than the call.
Only a daemon on a pooled store gains from threads, which let one client's
slow round trip leave the others running.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, TypeVarTuple, Unpack

import anyio.to_thread

from taskweave.store import Store

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class RunDomain(Protocol):
    def __call__(self, function: Callable[[Unpack[Ts]], T], /, *args: Unpack[Ts]) -> Awaitable[T]: ...


async def run_inline(function: Callable[[Unpack[Ts]], T], /, *args: Unpack[Ts]) -> T:
    return function(*args)


async def run_in_thread(function: Callable[[Unpack[Ts]], T], /, *args: Unpack[Ts]) -> T:
    return await anyio.to_thread.run_sync(function, *args)


def runner_for(store: Store, *, serves_many: bool) -> RunDomain:
    return run_in_thread if serves_many and store.concurrent_transactions else run_inline
