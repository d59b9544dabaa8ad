"""The dashboard in a real Chromium: what it shows, how it follows other processes' commits, its actions and guard."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from taskweave.core.orchestrator import Orchestrator
from taskweave.core.tasks import TaskChanges
from taskweave.workspace import detect_workspace
from tests.dashboard.conftest import DashboardProcess
from tests.support import agent, draft, populate

LIVE_SECONDS = 1.0


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def plan_session(store: str, project: Path) -> dict[str, Any]:
    """A session with a parent of three subtasks, one done, one claimed by a worker."""
    with Orchestrator.open(store) as orchestrator:
        init = orchestrator.sessions.initialize(detect_workspace(str(project)), client=agent("planner"))
        sid, planner = init["session_id"], init["client_id"]
        plan = orchestrator.tasks.plan(
            sid, planner, draft("Ship the parser"),
            subtasks=[draft("Write the grammar"), draft("Parse tabs", dependencies=[0]), draft("Document it", dependencies=[1])],
        )
        worker = orchestrator.upkeep.register_client(sid, agent("worker"))
        grammar, tabs, docs = (s["task_id"] for s in plan["subtasks"])
        orchestrator.work.execute(sid, worker, grammar)
        orchestrator.work.complete(sid, worker, grammar, summary="Grammar written: 40 rules.")
        orchestrator.work.execute(sid, worker, tabs)
    return {"sid": sid, "planner": planner, "worker": worker, "parent": plan["task_id"], "grammar": grammar,
            "tabs": tabs, "docs": docs}


def test_titles_render_and_commits_of_another_process_appear_within_a_second(
    store: str, project: Path, dashboard: DashboardProcess, open_page: Any
) -> None:
    plan = plan_session(store, project)
    page = open_page(dashboard.url)
    page.goto(dashboard.url + "/")
    page.get_by_role("link", name="main").click()
    expect(page.locator("#cards-completed")).to_contain_text("Write the grammar")
    expect(page.locator("#cards-completed")).to_contain_text("Grammar written: 40 rules.")
    expect(page.locator("#cards-in_progress")).to_contain_text("Parse tabs")
    expect(page.locator("#cards-in_progress")).to_contain_text("worker")
    expect(page.locator("#roots")).to_contain_text("Ship the parser")
    expect(page.locator("#claims")).to_contain_text("Parse tabs")
    expect(page.locator("#graph svg text", has_text="Document it")).to_have_count(1)
    page.evaluate("window.notReloaded = true")

    with Orchestrator.open(store) as orchestrator:
        orchestrator.tasks.plan(plan["sid"], plan["planner"], draft("Planned elsewhere"))
        committed = time.monotonic()
        expect(page.locator("#cards-pending").get_by_role("link", name="Planned elsewhere")).to_be_visible(
            timeout=LIVE_SECONDS * 1000
        )
        assert time.monotonic() - committed < LIVE_SECONDS
        orchestrator.work.complete(plan["sid"], plan["worker"], plan["tabs"], summary="Tabs parse as eight spaces.")
        expect(page.locator("#cards-completed")).to_contain_text("Tabs parse as eight spaces.", timeout=LIVE_SECONDS * 1000)
    expect(page.locator("#cards-in_progress .card")).to_have_count(0)
    expect(page.locator("#count-completed")).to_have_text("2")
    expect(page.locator("#claims")).to_contain_text("Nobody holds a task")
    expect(page.locator("#timeline")).to_contain_text("task.completed")
    assert page.evaluate("window.notReloaded") is True


def test_detail_shows_summary_artifacts_and_the_synthesis_report(
    store_path: Path, project: Path, start_dashboard: Any, open_page: Any
) -> None:
    plan = plan_session(str(store_path), project)
    with Orchestrator.open(str(store_path)) as orchestrator:
        sid, worker = plan["sid"], plan["worker"]
        orchestrator.work.complete(sid, worker, plan["tabs"], summary="Tabs done.", detailed_work="# Tabs\nEvery tab is 8.")
        orchestrator.work.execute(sid, worker, plan["docs"])
        orchestrator.work.complete(sid, worker, plan["docs"], summary="Documented.")
        orchestrator.reports.synthesize(sid, worker, parent_task_id=plan["parent"])
    running = start_dashboard(str(store_path), project)
    page = open_page(running.url)
    page.goto(f"{running.url}/sessions/{sid}")
    page.locator("#cards-completed").get_by_role("link", name="Parse tabs").click()
    detail = page.locator("#detail")
    expect(detail).to_contain_text("Tabs done.")
    detail.get_by_role("button", name="detailed-work.md").click()
    expect(detail.locator(".artifact-text")).to_contain_text("Every tab is 8.")
    page.locator("#roots").get_by_role("link", name="Ship the parser").click()
    expect(detail.locator(".report")).to_contain_text("Results: Ship the parser")
    expect(detail).to_contain_text("3/3 done")


def csrf_token(page: Any) -> str:
    found = re.search(r'"X-CSRF-Token": "([0-9a-f]+)"', page.locator("body").get_attribute("hx-headers") or "")
    assert found, "the page carries its CSRF token"
    return found.group(1)


def test_actions_go_through_the_domain_as_the_dashboard_and_need_the_pages_token(
    store: str, project: Path, dashboard: DashboardProcess, open_page: Any
) -> None:
    plan = plan_session(store, project)
    sid = plan["sid"]
    with Orchestrator.open(store) as orchestrator:
        orchestrator.upkeep.disconnect_client(plan["worker"])
    page = open_page(dashboard.url, allowed=("status of 409",))
    page.goto(f"{dashboard.url}/sessions/{sid}")

    # Refused without the page's token, or from another origin: nothing changes.
    action = f"{dashboard.url}/sessions/{sid}/tasks/{plan['tabs']}/release"
    refused = page.request.post(action, form={"force": "1"})
    assert refused.status == 403 and "CSRF" in refused.text()
    foreign = page.request.post(action, headers={"X-CSRF-Token": csrf_token(page), "Origin": "http://evil.example"})
    assert foreign.status == 403
    with Orchestrator.open(store) as orchestrator:
        assert orchestrator.tasks.detail(plan["tabs"])["status"] == "in_progress"

    # A stale claim is released from the claims panel.
    page.locator("#claims").get_by_role("button", name="Release stale claim").click()
    expect(page.locator("#flash")).to_contain_text("Released the stale claim")
    expect(page.locator("#claims")).to_contain_text("Nobody holds a task", timeout=LIVE_SECONDS * 1000)
    expect(page.locator("#cards-pending")).to_contain_text("Parse tabs", timeout=LIVE_SECONDS * 1000)

    # Priority, with the version the page showed.
    page.locator("#cards-pending").get_by_role("link", name="Parse tabs").click()
    page.locator("#detail select[name=priority]").select_option("high")
    page.locator("#detail").get_by_role("button", name="Set").click()
    expect(page.locator("#flash")).to_contain_text("is now of high priority")

    # A domain refusal is shown with its hint: cancelling a task another live client holds.
    with Orchestrator.open(store) as orchestrator:
        holder = orchestrator.upkeep.register_client(sid, agent("holder"))
        orchestrator.work.execute(sid, holder, plan["tabs"])
    page.locator("#cards-in_progress").get_by_role("link", name="Parse tabs").click()
    expect(page.locator("#detail")).to_contain_text("Held by holder")
    page.locator("#detail").get_by_role("button", name="Cancel task").click()
    expect(page.locator("#flash .refused")).to_contain_text("Pass force=true")
    page.locator("#detail form.cancel input[name=force]").check()
    page.locator("#detail").get_by_role("button", name="Cancel task").click()
    expect(page.locator("#flash .ok")).to_contain_text("Cancelled")
    expect(page.locator("#cards-cancelled")).to_contain_text("Parse tabs", timeout=LIVE_SECONDS * 1000)

    with Orchestrator.open(store) as orchestrator:
        task = orchestrator.tasks.detail(plan["tabs"])
        events = orchestrator.sessions.status(sid, since=0, detail="full")["events"]
        clients = {c["client_id"]: c["name"] for c in orchestrator.sessions.status(sid, detail="full")["clients"]}
    assert task["status"] == "cancelled" and task["priority"] == "high"
    acted = [(e["kind"], clients.get(e.get("actor", ""))) for e in events if e.get("task_id") == plan["tabs"]]
    assert ("claim.released", "dashboard") in acted
    assert ("task.updated", "dashboard") in acted
    assert ("task.cancelled", "dashboard") in acted


def test_columns_are_paged(store_path: Path, project: Path, start_dashboard: Any, open_page: Any) -> None:
    init = populate(store_path, project, tasks=130)
    running = start_dashboard(str(store_path), project)
    page = open_page(running.url)
    page.goto(f"{running.url}/sessions/{init['session_id']}")
    cards = page.locator("#cards-pending .card")
    expect(cards).to_have_count(50)
    expect(page.locator("#count-pending")).to_have_text("128")
    page.locator(".col-pending").get_by_role("button", name="more").click()
    expect(cards).to_have_count(100)
    page.locator(".col-pending").get_by_role("button", name="more").click()
    expect(cards).to_have_count(128)
    expect(page.locator(".col-pending").get_by_role("button", name="more")).to_have_count(0)
    ids = page.locator("#cards-pending .card").evaluate_all("cards => cards.map(c => c.id)")
    assert len(set(ids)) == 128


def test_off_loopback_the_page_needs_the_token(store_path: Path, project: Path, start_dashboard: Any, open_page: Any) -> None:
    plan_session(str(store_path), project)
    running = start_dashboard(str(store_path), project, host="0.0.0.0", TASKWEAVE_TOKEN="s3cret-token")
    page = open_page(running.url, allowed=("status of 401",))
    answer = page.goto(running.url + "/")
    assert answer.status == 401
    expect(page.locator("h1")).to_contain_text("needs its token")
    page.goto(running.url + "/?token=wrong")
    expect(page.locator("h1")).to_contain_text("needs its token")
    page.goto(running.url + "/?token=s3cret-token")
    assert page.url == running.url + "/"
    expect(page.get_by_role("link", name="main")).to_be_visible()
    login = [c for c in page.context.cookies() if c["name"].startswith("taskweave_login_")]
    assert login and login[0]["httpOnly"] and login[0]["sameSite"] == "Strict"
    assert "s3cret-token" not in login[0]["value"]
    page.get_by_role("link", name="main").click()
    expect(page.locator("#cards-completed")).to_contain_text("Write the grammar")


def test_serve_http_serves_the_dashboard_at_the_root_and_mcp_stays_at_mcp(
    store_path: Path, project: Path, start_dashboard: Any, open_page: Any
) -> None:
    import httpx2 as httpx

    plan = plan_session(str(store_path), project)
    running = start_dashboard(str(store_path), project, serve=True)
    page = open_page(running.url)
    page.goto(running.url + "/")
    page.get_by_role("link", name="main").click()
    expect(page.locator("#cards-in_progress")).to_contain_text("Parse tabs")
    with Orchestrator.open(str(store_path)) as orchestrator:
        orchestrator.tasks.update(plan["sid"], plan["planner"], plan["docs"], TaskChanges(title="Document the parser"))
    expect(page.locator("#cards-pending")).to_contain_text("Document the parser", timeout=LIVE_SECONDS * 1000)
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }
    answer = httpx.post(
        running.url + "/mcp", json=initialize,
        headers={"accept": "application/json, text/event-stream", "content-type": "application/json"},
    )
    assert answer.status_code == 200 and answer.json()["result"]["serverInfo"]["name"] == "taskweave"


@pytest.mark.parametrize("width", [1440, 900])
def test_the_page_fits_and_stays_quiet(store_path: Path, project: Path, start_dashboard: Any, open_page: Any, width: int) -> None:
    """No error at either layout; an idle page makes no request after its stream opened."""
    plan = plan_session(str(store_path), project)
    running = start_dashboard(str(store_path), project)
    page = open_page(running.url, width=width)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{running.url}/sessions/{plan['sid']}")
    expect(page.locator("#cards-completed")).to_contain_text("Write the grammar")
    page.wait_for_timeout(300)
    settled = len(requests)
    page.wait_for_timeout(2000)
    assert requests[settled:] == []
    assert any(url.endswith(f"/sessions/{plan['sid']}/live?since=" + url.rsplit("=", 1)[-1]) for url in requests)


def test_messages_are_sent_as_the_dashboard_and_reach_the_agent_and_claims_show_their_paths(
    store_path: Path, project: Path, start_dashboard: Any, open_page: Any
) -> None:
    plan = plan_session(str(store_path), project)
    sid = plan["sid"]
    with Orchestrator.open(str(store_path)) as orchestrator:
        orchestrator.messages.send(sid, plan["planner"], "all", "Grammar first, please.")
        orchestrator.work.complete(sid, plan["worker"], plan["tabs"], summary="Tabs done.")
        orchestrator.work.execute(sid, plan["worker"], plan["docs"], paths=["docs/**", "README.md"])
    running = start_dashboard(str(store_path), project)
    page = open_page(running.url)
    page.goto(f"{running.url}/sessions/{sid}")
    expect(page.locator("#message-list")).to_contain_text("Grammar first, please.")
    expect(page.locator("#claims")).to_contain_text("docs/**")
    expect(page.locator("#cards-in_progress")).to_contain_text("README.md")

    page.locator("#messages select[name=to]").select_option(plan["worker"])
    page.locator("#messages textarea[name=text]").fill("Mind the README's table.")
    page.locator("#messages").get_by_role("button", name="Send").click()
    expect(page.locator("#flash .ok")).to_contain_text("Sent to")
    expect(page.locator("#message-list")).to_contain_text("Mind the README's table.", timeout=LIVE_SECONDS * 1000)
    expect(page.locator("#message-list .message").first).to_contain_text("dashboard")

    with Orchestrator.open(str(store_path)) as orchestrator:
        orchestrator.messages.send(sid, plan["worker"], plan["planner"], "On it.")
        expect(page.locator("#message-list")).to_contain_text("On it.", timeout=LIVE_SECONDS * 1000)
        delivered = orchestrator.messages.take(sid, plan["worker"])
    assert [m["text"] for m in delivered if m["sender_name"] == "dashboard"] == ["Mind the README's table."]


def test_a_token_per_person_shows_and_changes_only_their_workspaces(
    store_path: Path, project: Path, tmp_path: Path, start_dashboard: Any, open_page: Any
) -> None:
    from taskweave.server.access import new_entry

    plan = plan_session(str(store_path), project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    alice_token, alice = new_entry("alice", [str(project)])
    bob_token, bob = new_entry("bob", [str(elsewhere)])
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(alice + bob)
    running = start_dashboard(str(store_path), project, host="0.0.0.0", TASKWEAVE_TOKENS_FILE=str(tokens))

    page = open_page(running.url, allowed=("status of 403",))
    page.goto(f"{running.url}/?token={bob_token}")
    expect(page.locator("main")).to_contain_text("No session")
    answer = page.goto(f"{running.url}/sessions/{plan['sid']}")
    assert answer.status == 403
    expect(page.locator("h1")).to_contain_text("does not give access")

    page = open_page(running.url)
    page.goto(f"{running.url}/?token={alice_token}")
    page.get_by_role("link", name="main").click()
    page.locator("#cards-in_progress").get_by_role("link", name="Parse tabs").click()
    page.locator("#detail").get_by_role("button", name="Set").click()
    expect(page.locator("#flash .ok")).to_contain_text("priority")
    with Orchestrator.open(str(store_path)) as orchestrator, orchestrator.store.transaction(write=False) as tx:
        dashboards = [c for c in tx.clients(plan["sid"], 50) if c["name"] == "dashboard"]
    assert [c["principal"] for c in dashboards] == ["alice"]
