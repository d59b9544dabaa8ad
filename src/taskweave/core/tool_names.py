"""The names of the MCP tools, in one place: the tool contract registers them and the domain's hints name them."""

from __future__ import annotations

INITIALIZE_SESSION = "orchestrator_initialize_session"
GET_STATUS = "orchestrator_get_status"
PLAN_TASK = "orchestrator_plan_task"
EXECUTE_TASK = "orchestrator_execute_task"
COMPLETE_TASK = "orchestrator_complete_task"
UPDATE_TASK = "orchestrator_update_task"
QUERY_TASKS = "orchestrator_query_tasks"
CANCEL_TASK = "orchestrator_cancel_task"
SYNTHESIZE_RESULTS = "orchestrator_synthesize_results"
LIST_SESSIONS = "orchestrator_list_sessions"
RESUME_SESSION = "orchestrator_resume_session"
END_SESSION = "orchestrator_end_session"
DETECT_WORKSPACE = "orchestrator_detect_workspace"
READ_ARTIFACT = "orchestrator_read_artifact"
SEND_MESSAGE = "orchestrator_send_message"
