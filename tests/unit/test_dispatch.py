"""A daemon on SQLite runs domain calls on its event loop; one that must wait goes to a thread, and the
calls behind it queue on the loop instead of each taking a thread."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from taskweave.server.dispatch import InlineUnlessWaiting
from taskweave.store import waiting


@pytest.fixture
def connection() -> threading.Lock:
    """Stands for the store's one connection, taken as the store takes it."""
    return threading.Lock()


def use(connection: threading.Lock, ran_on: dict[str, int], name: str) -> str:
    if not waiting.take(connection):
        raise TimeoutError(name)
    try:
        ran_on[name] = threading.get_ident()
    finally:
        connection.release()
    return name


def hold(connection: threading.Lock, until: threading.Event) -> threading.Thread:
    """Another thread of the process (a metrics scrape, a snapshot) holding the connection until `until`."""
    taken = threading.Event()

    def holder() -> None:
        with connection:
            taken.set()
            until.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    taken.wait(10)
    return thread


@pytest.mark.anyio
async def test_calls_behind_one_waiting_on_a_thread_queue_on_the_loop(connection: threading.Lock) -> None:
    run = InlineUnlessWaiting()
    ran_on: dict[str, int] = {}
    answers: list[str] = []
    released = threading.Event()
    holder = hold(connection, released)

    async def call(name: str) -> None:
        answers.append(await run(use, connection, ran_on, name))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(call, "first")
        await anyio.sleep(0.1)
        tasks.start_soon(call, "second")
        tasks.start_soon(call, "third")
        await anyio.sleep(0.1)
        assert ran_on == {}
        released.set()
    holder.join()

    loop = threading.get_ident()
    assert answers == ["first", "second", "third"]
    assert ran_on["first"] != loop, "the call that found the connection taken waits on a worker thread"
    assert ran_on["second"] == ran_on["third"] == loop, "the calls behind it ran on the loop, not on threads"


@pytest.mark.anyio
async def test_a_call_queued_past_the_bound_waits_on_a_thread_of_its_own(short_waits: float) -> None:
    run = InlineUnlessWaiting()
    loop = threading.get_ident()
    finished: list[str] = []
    quick_ran_on: list[int] = []

    def slow() -> None:
        if threading.get_ident() == loop:
            raise waiting.WouldBlock  # as the store does when a call may not wait
        time.sleep(short_waits * 2.5)  # long work on the thread, holding the lane
        finished.append("slow")

    def quick() -> None:
        quick_ran_on.append(threading.get_ident())
        finished.append("quick")

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run, slow)
            await anyio.sleep(0.1)
            tasks.start_soon(run, quick)
    assert finished == ["quick", "slow"], "the queued call did not wait past the bound"
    assert quick_ran_on != [loop]
