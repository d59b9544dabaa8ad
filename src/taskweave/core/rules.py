"""The rules a task's life follows, as plain functions of what was read: who may do what, and what comes next."""

from __future__ import annotations

from taskweave.core.model import DEFAULT_PRIORITY, FINISHED, PRIORITIES, UPDATE_TRANSITIONS
from taskweave.core.tool_names import (
    CANCEL_TASK,
    COMPLETE_TASK,
    EXECUTE_TASK,
    GET_STATUS,
    PLAN_TASK,
    SYNTHESIZE_RESULTS,
    UPDATE_TASK,
)
from taskweave.core.views import Summary, iso
from taskweave.errors import Conflict, InvalidInput, shown
from taskweave.store.records import TaskRow


def parse_priority(priority: str | None, field_prefix: str = "") -> int:
    name = (priority or DEFAULT_PRIORITY).strip().lower()
    if name not in PRIORITIES:
        raise InvalidInput(f"'{field_prefix}priority' is {shown(priority)}.", hint=f"Use one of: {', '.join(PRIORITIES)}.")
    return PRIORITIES[name]


def holds_live_claim(task: TaskRow, now: float) -> bool:
    expires = task["claim_expires_at"]
    return task["claimed_by"] is not None and expires is not None and expires >= now


def check_claimable(task: TaskRow, client_id: str, now: float) -> None:
    """Refuse to claim a finished task, or one another client holds a live claim on."""
    if task["status"] in FINISHED:
        hint = (
            f"Set its status back to 'pending' with {UPDATE_TASK} to retry it."
            if task["status"] in ("failed", "cancelled")
            else f"Pick another task: {GET_STATUS} lists the ready ones."
        )
        raise Conflict(f"Task {task['id']} is {task['status']}; there is nothing to execute.", hint=hint)
    holder = task["claimed_by"]
    if holder is not None and holder != client_id and holds_live_claim(task, now):
        expires = iso(task["claim_expires_at"])
        raise Conflict(
            f"Task {task['id']} is claimed by client {holder} until {expires}.",
            hint="Pick another ready task, or wait: the claim lapses when that client stops renewing it.",
            claimed_by=holder,
            claim_expires_at=expires,
        )


def check_dependencies_done(task_id: str, dependencies: list[TaskRow]) -> None:
    unfinished = [d for d in dependencies if d["status"] != "completed"]
    if unfinished:
        raise Conflict(
            f"Task {task_id} waits for {len(unfinished)} unfinished dependenc"
            f"{'y' if len(unfinished) == 1 else 'ies'}: "
            + ", ".join(f"{d['id']} ({d['status']})" for d in unfinished[:10]),
            hint=f"Complete those first; {GET_STATUS} lists the tasks that are ready now.",
            unfinished_dependencies=[d["id"] for d in unfinished],
        )


def check_claim_holder(task: TaskRow, client_id: str, verb: str) -> None:
    """Only the client holding a task's claim may `verb` it."""
    if task["status"] != "in_progress" or task["claimed_by"] is None:
        hint = (
            f"Claim it first with {EXECUTE_TASK}."
            if task["status"] in ("pending", "blocked")
            else "It is finished; plan a follow-up task instead."
        )
        raise Conflict(f"Task {task['id']} is {task['status']} and not claimed; you cannot {verb} it.", hint=hint)
    if task["claimed_by"] != client_id:
        raise Conflict(
            f"Task {task['id']} is claimed by client {task['claimed_by']}, not by you ({client_id}).",
            hint="Only the client holding the claim can complete it. Pick another task, or wait for the claim to lapse.",
            claimed_by=task["claimed_by"],
        )


def check_update_transition(task: TaskRow, wanted: str, client_id: str | None, now: float) -> None:
    """An update may move a task's status only along `UPDATE_TRANSITIONS`, and never from under a live claim."""
    current = task["status"]
    if wanted not in UPDATE_TRANSITIONS[current]:
        raise Conflict(
            f"Task {task['id']} cannot go from {current} to {wanted} by an update.",
            hint=transition_hint(current, wanted),
        )
    if current == "in_progress" and holds_live_claim(task, now) and task["claimed_by"] != client_id:
        raise Conflict(
            f"Task {task['id']} is claimed by client {task['claimed_by']}.",
            hint="Only the claim holder can put it back; wait for the claim to lapse.",
        )


def transition_hint(current: str, wanted: str) -> str:
    if wanted == "in_progress":
        return f"Claim the task with {EXECUTE_TASK} instead."
    if wanted in ("completed", "failed"):
        return f"Record the result with {COMPLETE_TASK} instead."
    if wanted == "cancelled":
        return f"Use {CANCEL_TASK} instead."
    allowed = sorted(UPDATE_TRANSITIONS[current])
    return f"From {current} an update may set: {', '.join(allowed) or 'nothing'}."


def next_steps(figures: Summary, mine: list[str], ready: list[TaskRow], to_synthesize: list[TaskRow]) -> list[str]:
    """What an agent attaching to the session should do next."""
    steps: list[str] = []
    if mine:
        steps.append(f"You hold {len(mine)} claimed task(s): finish them with {COMPLETE_TASK}.")
    if figures["total"] == 0 and not to_synthesize:
        steps.append(f"The plan is empty: create tasks with {PLAN_TASK}.")
    elif ready:
        steps.append(f"Claim the next ready task: {EXECUTE_TASK} without a task_id.")
    if to_synthesize:
        steps.append(synthesis_step(to_synthesize[0]))
    elif figures["all_finished"] and not ready:
        steps.append(f"Every task is finished: combine the session's results with {SYNTHESIZE_RESULTS}.")
    elif not ready and figures["total"]:
        steps.append(f"No task is ready right now; check {GET_STATUS} for blocked or claimed work.")
    return steps


def synthesis_step(parent: TaskRow) -> str:
    return (
        f"Every subtask of {parent['id']} ({parent['title']!r}) is finished: "
        f"{SYNTHESIZE_RESULTS} with parent_task_id={parent['id']} combines them and completes it."
    )


def check_not_parent(task: TaskRow) -> None:
    """A parent is a container: its work happens in its subtasks, and its synthesis completes it."""
    if task["children"] > 0:
        raise Conflict(
            f"Task {task['id']} is a parent of {task['children']} subtask(s); its work happens in them.",
            hint=f"Claim a subtask ({EXECUTE_TASK} without a task_id takes the best ready one). When every "
            f"subtask is finished, {SYNTHESIZE_RESULTS} with parent_task_id={task['id']} completes it.",
        )
