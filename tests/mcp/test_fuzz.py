"""Every tool, called with arguments drawn from its own schema, hostile ones among them (the short run).

The checks after each call are `tests.fuzzing`'s: the server still answers, a
failure is a clear error with a specific code, a failed call changed nothing.
The run is derandomized and keeps no example database, so it draws the same
calls every time; `tests/soak/test_fuzz_long.py` is the long run.
"""

from __future__ import annotations

from pathlib import Path

from taskweave.server.tools import TOOLS
from tests.fuzzing import fuzz_tool, fuzzing, run_settings

CALLS_PER_TOOL = 20

SHORT_RUN = run_settings(CALLS_PER_TOOL, derandomize=True)


def test_every_tool_answers_hostile_arguments_with_a_clear_error_and_no_change(store: str, in_project: Path) -> None:
    with fuzzing(store, in_project) as fuzzer:
        for tool in TOOLS:
            fuzz_tool(fuzzer, tool.name, SHORT_RUN)
        assert fuzzer.store.check() == []
        assert sum(fuzzer.tally.outcomes.values()) >= CALLS_PER_TOOL * len(TOOLS) // 2
