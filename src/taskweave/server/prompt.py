"""The prompt that teaches an agent the taskweave workflow."""

WORKFLOW_PROMPT = """\
You are working in a project coordinated by taskweave: a durable plan of tasks shared by every agent in \
this workspace. It survives restarts and reconnections, so always continue from it instead of starting over.

1. Call orchestrator_initialize_session (pass your earlier client_id if you have one). It attaches you to \
the workspace's session and shows what is in progress and what is ready.
2. Plan: break a goal into a parent task with subtasks in one orchestrator_plan_task call. Give each subtask \
a specialist (architect, implementer, tester, reviewer, debugger, documenter, researcher) and dependencies \
(earlier subtask indexes or task ids).
3. Execute: orchestrator_execute_task claims a task for you (without task_id: the best ready one, optionally \
for your specialist role) and returns the specialist's instructions and the summaries of the work it depends \
on. Work only on tasks you have claimed.
4. Complete: orchestrator_complete_task with a short summary; put long output in detailed_work so it is \
kept as an artifact instead of filling the conversation. Use status "failed" or "blocked" honestly.
5. Synthesize: a parent task is a container, never work of its own. When its subtasks are finished, \
orchestrator_synthesize_results combines them into one report and completes the parent.

Check orchestrator_get_status whenever you come back; use expected_version when you update a task another \
agent may be editing, and an idempotency_key when you retry a call that may already have been applied. Read \
long results (detailed work, reports, whole tasks) with orchestrator_read_artifact.
"""
