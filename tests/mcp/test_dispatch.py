"""The daemon's calls into the domain, through the MCP layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taskweave.server.dispatch import InlineUnlessWaiting
from taskweave.store import waiting
from tests.support import call, connect, serving


@pytest.mark.anyio
async def test_a_change_made_before_the_store_turns_busy_is_never_made_twice(store_path: Path, in_project: Path) -> None:
    """A daemon's call is one domain call: the tool's change, then the caller's unread messages. When taking
    the messages would have to wait, the answer goes without them rather than the whole call again on a
    thread."""
    async with serving(str(store_path), transport="http") as app, connect(app) as client:
        assert isinstance(app.run_domain, InlineUnlessWaiting)
        attached = await call(client, "orchestrator_initialize_session", working_directory=str(in_project))
        ids = {"session_id": attached["session_id"], "client_id": attached["client_id"]}

        def busy(session_id: str, client_id: str) -> list[Any]:
            raise waiting.WouldBlock

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(app.orchestrator.messages, "take", busy)
            await call(client, "orchestrator_plan_task", title="Once", description="Made once.", **ids)
        found = await call(client, "orchestrator_query_tasks", text="once", **ids)
    assert [task["title"] for task in found["tasks"]] == ["Once"]
