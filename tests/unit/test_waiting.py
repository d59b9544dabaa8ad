"""The in-process turns a session's writers queue in: one holder per key, bounded, forgotten when idle."""

from __future__ import annotations

import threading

from taskweave.store.waiting import KeyedTurns


def test_one_holder_per_key_and_other_keys_go_on(short_waits: float) -> None:
    turns = KeyedTurns()
    holding, release = threading.Event(), threading.Event()
    outcomes: dict[str, bool] = {}

    def hold() -> None:
        with turns.turn("s1") as mine:
            outcomes["holder"] = mine
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    with turns.turn("s2") as other:
        outcomes["other key"] = other
    with turns.turn("s1") as late:
        outcomes["same key, held past the bound"] = late
    release.set()
    holder.join(10)
    with turns.turn("s1") as after:
        outcomes["same key, after the holder"] = after
    assert outcomes == {
        "holder": True, "other key": True, "same key, held past the bound": False, "same key, after the holder": True
    }
    assert turns._locks == {}
