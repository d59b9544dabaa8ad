"""A team daemon's tokens: each names a principal and the workspaces it may use, and nothing crosses them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2 as httpx
import pytest

from taskweave.errors import InvalidInput
from taskweave.server.access import Tokens, new_entry
from tests.support import call, call_error, http_client, http_daemon

pytestmark = pytest.mark.anyio


def _repository(path: Path) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "src").mkdir()
    return path


@pytest.fixture
def workspaces(tmp_path: Path) -> tuple[Path, Path]:
    return _repository(tmp_path / "api"), _repository(tmp_path / "web")


@pytest.fixture
def tokens_file(tmp_path: Path, workspaces: tuple[Path, Path]) -> tuple[Path, str, str]:
    """alice may use the api workspace, bob the web one; the file holds what `taskweave token` prints."""
    api, web = workspaces
    alice, alice_entry = new_entry("alice", [str(api)])
    bob, bob_entry = new_entry("bob", [str(web)])
    path = tmp_path / "tokens.toml"
    path.write_text(alice_entry + "\n" + bob_entry)
    return path, alice, bob


@pytest.fixture
async def team(store: str, tokens_file: tuple[Path, str, str]) -> AsyncIterator[str]:
    async with http_daemon(store, tokens=Tokens.load(str(tokens_file[0]))) as url:
        yield url


async def test_each_token_uses_only_its_workspaces(
    team: str, tokens_file: tuple[Path, str, str], workspaces: tuple[Path, Path]
) -> None:
    _, alice_token, bob_token = tokens_file
    api, web = workspaces
    async with http_client(team, name="alice-agent", token=alice_token) as alice, http_client(
        team, name="bob-agent", token=bob_token
    ) as bob:
        mine = await call(alice, "orchestrator_initialize_session", working_directory=str(api / "src"))
        theirs = await call(bob, "orchestrator_initialize_session", working_directory=str(web))
        plan = await call(alice, "orchestrator_plan_task", title="p", description="d")
        await call(alice, "orchestrator_execute_task", task_id=plan["task_id"])
        done = await call(
            alice, "orchestrator_complete_task", task_id=plan["task_id"], summary="s",
            artifacts=[{"name": "notes", "content": "private notes"}],
        )
        artifact = done["artifacts"][0]

        refused = await call_error(bob, "orchestrator_initialize_session", working_directory=str(api))
        assert refused["code"] == "forbidden" and "bob" in refused["message"]
        for tool, arguments in [
            ("orchestrator_get_status", {"session_id": mine["session_id"]}),
            ("orchestrator_resume_session", {"session_id": mine["session_id"]}),
            ("orchestrator_query_tasks", {"session_id": mine["session_id"]}),
            ("orchestrator_read_artifact", {"artifact_id": artifact["artifact_id"]}),
            ("orchestrator_read_artifact", {"uri": plan["uri"]}),
            ("orchestrator_get_status", {"client_id": mine["client_id"]}),
        ]:
            error = await call_error(bob, tool, **arguments)
            assert error["code"] == "forbidden", (tool, error)
        with pytest.raises(Exception, match="does not give access"):
            await bob.read_resource(plan["uri"])

        listed = await call(bob, "orchestrator_list_sessions", all=True)
        assert [s["session_id"] for s in listed["sessions"]] == [theirs["session_id"]]
        assert (await call(alice, "orchestrator_read_artifact", artifact_id=artifact["artifact_id"]))["text"] == (
            "private notes"
        )
        bob_status = await call(bob, "orchestrator_get_status")
        assert bob_status["session_id"] == theirs["session_id"] and bob_status["counts"]["pending"] == 0

        status = await call(alice, "orchestrator_get_status", detail="full", since=0)
        assert {c["principal"] for c in status["clients"]} == {"alice"}
        assert {e.get("principal") for e in status["events"] if e.get("actor")} == {"alice"}


async def test_a_wrong_token_gets_401_and_a_single_token_uses_every_workspace(
    store: str, workspaces: tuple[Path, Path]
) -> None:
    async with http_daemon(store, token="shared-secret") as url:
        async with httpx.AsyncClient() as raw:
            response = await raw.post(url, json={}, headers={"authorization": "Bearer wrong"})
            assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
        async with http_client(url, token="shared-secret") as one, http_client(url, token="shared-secret") as two:
            for root in workspaces:
                init = await call(one, "orchestrator_initialize_session", working_directory=str(root))
                joined = await call(two, "orchestrator_resume_session", session_id=init["session_id"])
                assert joined["session_id"] == init["session_id"]


def test_a_bad_tokens_file_is_refused_with_what_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    for text, says in [
        ("[[tokens]]\nname = 'x'\n", "needs a name and a sha256"),
        ("[[tokens]]\nname = 'x'\nsha256 = '" + "a" * 64 + "'\nworkspaces = ['relative']\n", "absolute"),
        ("tokens = [", "not valid TOML"),
        ("", "holds no token"),
    ]:
        path.write_text(text)
        with pytest.raises(InvalidInput, match=says) as refused:
            Tokens.load(str(path))
        assert "taskweave token" in (refused.value.hint or "")
    with pytest.raises(InvalidInput, match="cannot be read"):
        Tokens.load(str(tmp_path / "missing.toml"))


def test_the_token_command_prints_an_entry_and_the_token_once(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "taskweave", "token", "alice", "--workspace", str(tmp_path)],
        capture_output=True, text=True, check=True,
    )
    token = done.stderr.strip().splitlines()[-1]
    assert token not in done.stdout
    (tmp_path / "tokens.toml").write_text(done.stdout)
    principal = Tokens.load(str(tmp_path / "tokens.toml")).principal(token)
    assert principal is not None and principal.name == "alice" and principal.may_use(str(tmp_path / "sub"))
    assert not principal.may_use(str(tmp_path) + "-other")
