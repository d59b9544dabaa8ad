"""Plain-text views of sessions and status for the terminal."""

from __future__ import annotations

from taskweave.core.sessions import SessionList, Status
from taskweave.core.views import TaskBrief


def render_status(status: Status) -> str:
    counts = status["counts"]
    progress = status["progress"]
    lines = [
        f"session   {status['session_name']} ({status['session_id']}, {status['session_status']})",
        f"workspace {status['workspace_root']}",
        f"progress  {progress['percent_complete']}% of {progress['total']} tasks complete; "
        + ", ".join(f"{n} {name}" for name, n in counts.items() if n),
        f"activity  {status['last_activity_at']} (event #{status['last_event_seq']})",
    ]
    tasks = status["tasks"]
    sections: tuple[tuple[str, list[TaskBrief]], ...] = (
        ("In progress", tasks["in_progress"]),
        ("Ready next", tasks["ready"]),
        ("Ready to synthesize", tasks["to_synthesize"]),
        ("Recently updated", tasks["recently_updated"]),
    )
    for title, listed in sections:
        if listed:
            lines += ["", f"{title}:"]
            for task in listed:
                claim = task.get("claim")
                holder = f"  [claimed by {claim['client_id']} until {claim['expires_at']}]" if claim else ""
                if claim and claim.get("paths"):
                    holder += f" reserves {', '.join(claim['paths'])}"
                lines.append(f"  {task['task_id']}  {task['status']:<11} {task['priority']:<8} {task['specialist']:<11} {task['title']}{holder}")
    if status["clients"]:
        lines += ["", "Clients:"]
        for client in status["clients"]:
            name = f"{client['name']} {client.get('version', '')}".strip()
            where = f" via {client.get('transport')} on {client.get('host')}" if "transport" in client else ""
            lines.append(f"  {client['client_id']}  {client['state']:<12} {name}{where}, last seen {client['last_seen']}")
    return "\n".join(lines)


def render_sessions(listing: SessionList) -> str:
    sessions = listing["sessions"]
    if not sessions:
        where = listing["workspace_root"] or "this store"
        return f"No sessions in {where}."
    lines = []
    for session in sessions:
        counts = ", ".join(f"{n} {status}" for status, n in session["counts"].items() if n) or "no tasks"
        lines.append(
            f"{session['session_id']}  {session['status']:<6} {session['name']:<12} {session['workspace_root']}\n"
            f"    {counts}; last activity {session['last_activity_at']}; {session['connected_clients']} client(s) connected"
        )
    return "\n".join(lines)
