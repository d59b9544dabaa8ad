"""Specialist roles: who a task is for, and the instructions an agent gets with it.

The built-in roles cover the usual division of software work. A workspace
changes their instructions, or adds roles of its own, in `.taskweave.toml`:

    [specialists.tester]
    instructions = "Use pytest; every new test must fail before the fix."
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskweave.errors import InvalidInput, shown

DEFAULT_SPECIALIST = "implementer"

BUILTIN: dict[str, str] = {
    "architect": (
        "Design before building. Read the relevant code first, then decide the structure: modules, "
        "interfaces, data flow and the trade-offs you chose. Break the work into subtasks with "
        "orchestrator_plan_task when it is larger than one change. Summarize the design and the reasons."
    ),
    "implementer": (
        "Make the change the task describes, in the style of the surrounding code. Keep it focused, run "
        "the project's tests and linters, and summarize what you changed, where, and how you verified it."
    ),
    "tester": (
        "Write or extend tests that pin the behaviour the task names, including edge cases and failure "
        "paths. Each test must be able to fail. Run the suite and report what passes, what fails and why."
    ),
    "reviewer": (
        "Review the change for correctness, clarity, security and fit with the codebase. Report concrete "
        "findings with file and line, ordered by severity, and say plainly whether it is ready."
    ),
    "debugger": (
        "Reproduce the problem first, then find the root cause by narrowing it down, not by guessing. Fix "
        "the cause, add a test that failed before the fix, and summarize cause, fix and evidence."
    ),
    "documenter": (
        "Write documentation a new user can follow: start with the command or example they need, then the "
        "details. Keep it accurate to the code as it is; summarize which documents changed."
    ),
    "researcher": (
        "Investigate the question and answer it with evidence: sources, code references, measurements. "
        "Separate facts from judgement, and summarize the findings and the recommendation."
    ),
}


def specialist_overrides(config: Mapping[str, Any]) -> dict[str, str]:
    """The `[specialists.NAME] instructions = ...` entries of a workspace's `.taskweave.toml`."""
    table = config.get("specialists")
    if not isinstance(table, Mapping):
        return {}
    overrides: dict[str, str] = {}
    for name, entry in table.items():
        instructions = entry.get("instructions") if isinstance(entry, Mapping) else entry
        if isinstance(name, str) and isinstance(instructions, str) and instructions.strip():
            overrides[name.strip().lower()] = instructions.strip()
    return overrides


def available(overrides: Mapping[str, str]) -> dict[str, str]:
    return {**BUILTIN, **overrides}


def resolve(name: str | None, overrides: Mapping[str, str]) -> str:
    """The canonical role name, or a clear error naming the roles that exist."""
    if name is None or not name.strip():
        return DEFAULT_SPECIALIST
    key = name.strip().lower()
    roles = available(overrides)
    if key not in roles:
        raise InvalidInput(
            f"Unknown specialist {shown(name)}.",
            hint=f"Use one of: {', '.join(sorted(roles))}; or define it under [specialists.{key}] in .taskweave.toml.",
        )
    return key


def instructions_for(name: str, overrides: Mapping[str, str]) -> str:
    return available(overrides).get(name, BUILTIN[DEFAULT_SPECIALIST])
