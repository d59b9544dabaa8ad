"""The fuzzer's long run: thousands of calls per store, and sequences of calls in random orders.

The first test calls every tool many times with arguments from its schema, as
`tests/mcp/test_fuzz.py` does a few times, with fresh random choices each run.
The second drives the work itself (plan, claim, complete, cancel, update,
synthesize, message) in random orders, with hostile calls to any tool mixed
in, as a hypothesis state machine. Every call gets the checks of
`tests.fuzzing`; the store's own `check()` must pass after each run. Each test
prints what it did to stderr (`pytest -m soak -n 0 -k fuzz -s` shows it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from taskweave.core import tool_names as names
from taskweave.core.model import COMPLETION_STATUSES, PRIORITIES
from taskweave.server.tools import TOOLS
from tests.fuzzing import SPECIALISTS, Fuzzer, fuzz_tool, fuzzing, run_settings

# Minutes per test on a shared machine: more than the suite's default timeout allows.
pytestmark = [pytest.mark.soak, pytest.mark.timeout(1_800)]

CALLS_PER_TOOL = 200
SEQUENCES = 40
STEPS_PER_SEQUENCE = 50

LONG_RUN = run_settings(CALLS_PER_TOOL, derandomize=False)


def test_every_tool_many_times(store: str, in_project: Path) -> None:
    with fuzzing(store, in_project) as fuzzer:
        for tool in TOOLS:
            fuzz_tool(fuzzer, tool.name, LONG_RUN)
        print(fuzzer.tally.summary(f"every tool, {_kind(store)}"), file=sys.stderr)
        assert fuzzer.store.check() == []


def _kind(store: str) -> str:
    return "postgres" if store.startswith("postgresql://") else "sqlite"


def _tasks(fuzzer: Fuzzer, where: str = "TRUE") -> list[dict[str, Any]]:
    """The prepared session's tasks that fit the SQL condition `where`."""
    with fuzzer.store.transaction(write=False) as tx:
        rows = tx.all(
            "SELECT id, status, claimed_by, children, version FROM tasks "
            f"WHERE session_id = ? AND ({where}) ORDER BY seq",
            fuzzer.prepared.session_id,
        )
    return [dict(row) for row in rows]


TITLES = st.text(min_size=1, max_size=30)
INDEX = st.integers(0, 2**16)


class Work(RuleBasedStateMachine):
    """The work of a session in random orders, by two clients, with hostile calls to any tool in between.

    Hypothesis requires each rule to draw the same way whatever the store holds: a rule draws indices,
    then takes the task they point at among those the store holds at that moment.
    """

    def __init__(self, fuzzer: Fuzzer) -> None:
        super().__init__()
        self.fuzzer = fuzzer
        self.clients = (fuzzer.prepared.client_id, fuzzer.prepared.other_client_id)

    def call(self, tool: str, **arguments: Any) -> None:
        self.fuzzer.call(tool, {name: value for name, value in arguments.items() if value is not None})

    def pick(self, data: st.DataObject, tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
        index = data.draw(INDEX)
        return tasks[index % len(tasks)] if tasks else None

    def maybe_id(self, data: st.DataObject, tasks: list[dict[str, Any]]) -> str | None:
        """Now and then no task, else the id of one of `tasks` (None when there is none)."""
        wanted = data.draw(st.booleans())
        task = self.pick(data, tasks)
        return task["id"] if wanted and task else None

    @rule(data=st.data())
    def plan(self, data: st.DataObject) -> None:
        subtasks = data.draw(
            st.lists(
                st.fixed_dictionaries(
                    {"title": TITLES},
                    optional={
                        "specialist": st.sampled_from(SPECIALISTS),
                        "priority": st.sampled_from(tuple(PRIORITIES)),
                        "dependencies": st.lists(st.integers(0, 4), max_size=2),
                    },
                ),
                max_size=5,
            )
        )
        parent = self.maybe_id(data, _tasks(self.fuzzer))
        self.call(names.PLAN_TASK, title=data.draw(TITLES), description="", subtasks=subtasks, parent_task_id=parent)

    @rule(data=st.data(), paths=st.one_of(st.none(), st.lists(st.sampled_from(("src/**", "docs/*.md", "tests")))))
    def claim(self, data: st.DataObject, paths: list[str] | None) -> None:
        task_id = self.maybe_id(data, _tasks(self.fuzzer, "status = 'pending' AND children = 0"))
        self.call(names.EXECUTE_TASK, task_id=task_id, client_id=data.draw(st.sampled_from(self.clients)), paths=paths)

    @rule(
        data=st.data(),
        summary=TITLES,
        status=st.sampled_from(COMPLETION_STATUSES),
        artifacts=st.lists(st.fixed_dictionaries({"name": TITLES, "content": st.text()}), max_size=2),
        detailed_work=st.one_of(st.none(), st.text()),
    )
    def complete(
        self, data: st.DataObject, summary: str, status: str, artifacts: list[dict[str, str]], detailed_work: str | None
    ) -> None:
        task = self.pick(data, _tasks(self.fuzzer, "status = 'in_progress'"))
        if task is not None:
            self.call(
                names.COMPLETE_TASK, task_id=task["id"], client_id=task["claimed_by"], summary=summary, status=status,
                artifacts=artifacts, detailed_work=detailed_work,
            )

    @rule(data=st.data(), cascade=st.booleans(), force=st.booleans(), reason=st.one_of(st.none(), TITLES))
    def cancel(self, data: st.DataObject, cascade: bool, force: bool, reason: str | None) -> None:
        task = self.pick(data, _tasks(self.fuzzer))
        if task is not None:
            self.call(names.CANCEL_TASK, task_id=task["id"], cascade=cascade, force=force, reason=reason)

    @rule(
        data=st.data(),
        changes=st.fixed_dictionaries(
            {},
            optional={
                "title": TITLES,
                "priority": st.sampled_from(tuple(PRIORITIES)),
                "specialist": st.sampled_from(SPECIALISTS),
                "status": st.sampled_from(("pending", "blocked")),
                "summary": TITLES,
            },
        ),
        dependencies=st.one_of(st.none(), st.lists(INDEX, max_size=3)),
        parent=st.one_of(st.none(), INDEX),
        stale=st.one_of(st.none(), st.booleans()),
    )
    def update(
        self, data: st.DataObject, changes: dict[str, str], dependencies: list[int] | None, parent: int | None,
        stale: bool | None,
    ) -> None:
        tasks = _tasks(self.fuzzer)
        task = self.pick(data, tasks)
        if task is None:
            return
        self.call(
            names.UPDATE_TASK, task_id=task["id"], **changes,
            dependencies=None if dependencies is None else [tasks[index % len(tasks)]["id"] for index in dependencies],
            parent_task_id=None if parent is None else tasks[parent % len(tasks)]["id"],
            expected_version=None if stale is None else task["version"] - stale,
        )

    @rule(data=st.data())
    def synthesize(self, data: st.DataObject) -> None:
        self.call(names.SYNTHESIZE_RESULTS, parent_task_id=self.maybe_id(data, _tasks(self.fuzzer, "children > 0")))

    @rule(to=st.sampled_from((0, 1, *SPECIALISTS, "all")), sender=st.sampled_from((0, 1)), text=TITLES)
    def message(self, to: int | str, sender: int, text: str) -> None:
        recipient = self.clients[to] if isinstance(to, int) else to
        self.call(names.SEND_MESSAGE, to=recipient, text=text, client_id=self.clients[sender])

    @rule(since=st.one_of(st.none(), st.integers(0, 5)))
    def status(self, since: int | None) -> None:
        self.call(names.GET_STATUS, since=since)

    @rule(data=st.data(), tool=st.sampled_from([tool.name for tool in TOOLS]))
    def any_tool(self, data: st.DataObject, tool: str) -> None:
        self.fuzzer.call(tool, data.draw(self.fuzzer.arguments(tool), label=tool))


def test_sequences_of_calls_in_random_orders(store: str, in_project: Path) -> None:
    with fuzzing(store, in_project) as fuzzer:
        run_state_machine_as_test(
            lambda: Work(fuzzer),  # type: ignore[arg-type]  # any factory will do, says its docstring
            settings=settings(
                LONG_RUN, max_examples=SEQUENCES, stateful_step_count=STEPS_PER_SEQUENCE,
                suppress_health_check=[*LONG_RUN.suppress_health_check, HealthCheck.filter_too_much],
            ),
        )
        print(fuzzer.tally.summary(f"sequences, {_kind(store)}"), file=sys.stderr)
        assert fuzzer.store.check() == []
