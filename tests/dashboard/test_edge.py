"""The dashboard without a browser: its guard on the wire, its start-up refusal, what stdio serving never imports,
and the graph layout."""

from __future__ import annotations

import http.client
import subprocess
import sys
from pathlib import Path
from typing import Any

from taskweave.dashboard.graph_layout import NODE_HEIGHT, NODE_WIDTH, layout
from taskweave.dashboard.guard import _matches
from taskweave.dashboard.reads import Cursor
from tests.support import server_env, taskweave_cli


def request(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    return connection.getresponse()


def test_loopback_answers_only_loopback_hosts_and_origins(start_dashboard: Any, store_path: Path, project: Path) -> None:
    running = start_dashboard(str(store_path), project)
    port = running.port
    assert request(port, "/").status == 200
    assert request(port, "/", Host=f"localhost:{port}").status == 200
    assert request(port, "/", Host=f"evil.example:{port}").status == 421
    assert request(port, "/", Origin="http://evil.example").status == 403
    assert request(port, "/", Origin=f"http://localhost:{port}").status == 200
    page = request(port, "/")
    assert "HttpOnly; SameSite=Strict" in (page.getheader("set-cookie") or "")
    assert "default-src 'self'" in (page.getheader("content-security-policy") or "")
    assert page.getheader("x-frame-options") == "DENY"
    assert request(port, "/sessions/s_nothing").status == 404
    assert request(port, "/static/htmx.min.js").status == 200


def test_an_action_without_the_pages_token_is_refused_in_words(start_dashboard: Any, store_path: Path, project: Path) -> None:
    running = start_dashboard(str(store_path), project)
    connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
    connection.request("POST", "/sessions/s_x/tasks/t_x/cancel", body="", headers={"HX-Request": "true"})
    answer = connection.getresponse()
    body = answer.read().decode()
    assert answer.status == 403 and body.startswith('<p class="flash refused">') and "CSRF" in body


def test_the_bearer_token_opens_the_dashboard_to_scripts(start_dashboard: Any, store_path: Path, project: Path) -> None:
    running = start_dashboard(str(store_path), project, host="0.0.0.0", TASKWEAVE_TOKEN="tok")
    assert request(running.port, "/").status == 401
    assert request(running.port, "/", Authorization="Bearer tok").status == 200
    assert request(running.port, "/", Authorization="Bearer nope").status == 401
    redirect = request(running.port, "/?token=tok")
    assert redirect.status == 303 and redirect.getheader("location") == "/"


def test_off_loopback_without_a_token_the_dashboard_refuses_to_start(store_path: Path, project: Path) -> None:
    result = taskweave_cli("dashboard", "--store", str(store_path), "--host", "0.0.0.0", cwd=project)
    assert result.returncode == 1
    assert "TASKWEAVE_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_serving_over_stdio_never_imports_the_dashboard(project: Path) -> None:
    probe = (
        "import sys\n"
        "import taskweave.cli.main, taskweave.server.run, taskweave.server.mcp_server, taskweave.server.stdio\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('taskweave.dashboard') or m.split('.')[0] == 'jinja2')\n"
        "print('LOADED', loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=project, env=server_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout


def test_layout_puts_each_task_right_of_its_dependencies_without_overlaps() -> None:
    nodes = ["a", "b", "c", "d", "e"]
    drawing = layout(nodes, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("a", "e"), ("d", "e")])
    at = {n.id: n for n in drawing.nodes}
    assert at["a"].x < at["b"].x < at["d"].x < at["e"].x and at["b"].x == at["c"].x
    boxes = [(n.x, n.y) for n in drawing.nodes]
    for i, (x1, y1) in enumerate(boxes):
        for x2, y2 in boxes[i + 1:]:
            assert abs(x1 - x2) >= NODE_WIDTH or abs(y1 - y2) >= NODE_HEIGHT
    assert all(0 <= n.x and n.x + NODE_WIDTH <= drawing.width and n.y + NODE_HEIGHT <= drawing.height for n in drawing.nodes)
    long_edge = next(path for a, b, path in drawing.edges if (a, b) == ("a", "e"))
    assert long_edge.count("C") == 3  # through a waypoint in each of the two layers it crosses


def test_layout_draws_what_it_is_given_even_without_edges() -> None:
    assert layout([], []).nodes == []
    lone = layout(["x", "y"], [("x", "unknown"), ("x", "x")])
    assert len(lone.nodes) == 2 and lone.edges == []


def test_a_column_cursor_survives_its_round_trip() -> None:
    cursor = Cursor(1_700_000_000.123456, 42)
    assert Cursor.parse(cursor.token()) == cursor
    assert Cursor.parse("nonsense") is None and Cursor.parse(None) is None


def test_host_patterns_stand_for_any_port_only() -> None:
    patterns = ["127.0.0.1:*", "http://localhost:*"]
    assert _matches("127.0.0.1:8766", patterns) and _matches("http://localhost:1", patterns)
    assert not _matches("127.0.0.1:8766.evil.example", patterns)
    assert not _matches("127.0.0.1", patterns) and not _matches("http://localhost:", patterns)
