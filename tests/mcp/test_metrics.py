"""The daemon's /metrics and /healthz: what operators scrape, behind the same token as the MCP endpoint."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from taskweave import __version__
from tests.support import call, call_error, http_client, http_daemon

pytestmark = pytest.mark.anyio


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_calls_claims_and_the_store_lock_are_measured(store: str, project: Path) -> None:
    async with http_daemon(store) as url, http_client(url) as client, httpx.AsyncClient() as raw:
        await call(client, "orchestrator_initialize_session", working_directory=str(project))
        task = await call(client, "orchestrator_plan_task", title="t", description="d")
        await call(client, "orchestrator_execute_task", task_id=task["task_id"])
        await call(client, "orchestrator_complete_task", task_id=task["task_id"], summary="done")
        await call_error(client, "orchestrator_execute_task", task_id="t_missing")
        base = url.removesuffix("/mcp")
        scraped = await raw.get(base + "/metrics")
        health = await raw.get(base + "/healthz")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    found = samples(scraped.text)
    execute = "orchestrator_execute_task"
    assert found["taskweave_tool_calls_total", (("outcome", "ok"), ("tool", execute))] == 1
    assert found["taskweave_tool_calls_total", (("outcome", "not_found"), ("tool", execute))] == 1
    assert found["taskweave_tool_call_seconds_count", (("tool", execute),)] == 2
    assert found["taskweave_claims_total", (("event", "claimed"),)] == 1
    assert found["taskweave_claims_total", (("event", "finished"),)] == 1
    held = found["taskweave_store_lock_held_seconds_count", ()]
    assert held >= 4 and found["taskweave_store_lock_held_seconds_sum", ()] > 0
    assert found["taskweave_clients_connected", ()] == 1 and found["taskweave_mcp_sessions", ()] >= 1
    kind = "postgresql" if store.startswith("postgresql") else "sqlite"
    assert found["taskweave_info", (("store", kind), ("version", __version__))] == 1
    assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["store"]["kind"] == kind


async def test_metrics_need_the_token_when_the_daemon_has_one(store: str) -> None:
    async with http_daemon(store, token="s3cret") as url, httpx.AsyncClient() as raw:
        base = url.removesuffix("/mcp")
        assert (await raw.get(base + "/metrics")).status_code == 401
        allowed = await raw.get(base + "/metrics", headers={"authorization": "Bearer s3cret"})
        assert allowed.status_code == 200 and "taskweave_tool_calls" in allowed.text


async def test_health_is_503_with_the_stores_own_words_when_its_file_is_gone(store_path: Path) -> None:
    async with http_daemon(str(store_path)) as url, httpx.AsyncClient() as raw:
        store_path.unlink()
        health = await raw.get(url.removesuffix("/mcp") + "/healthz")
        scraped = await raw.get(url.removesuffix("/mcp") + "/metrics")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"
    assert "was deleted" in health.json()["error"]["message"] and health.json()["error"]["code"] == "store_error"
    assert scraped.status_code == 200 and "taskweave_clients_connected" not in scraped.text
