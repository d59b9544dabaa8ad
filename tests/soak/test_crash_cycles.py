"""Servers killed with SIGKILL at random moments, many times over: every acknowledged write survives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import server_env

pytestmark = pytest.mark.soak

REPO = Path(__file__).resolve().parent.parent.parent


def test_crash_cycles_lose_nothing(tmp_path: Path) -> None:
    """Servers killed with SIGKILL at random moments, 50 times over: every acknowledged write survives."""
    result_file = tmp_path / "crash.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.crash", "--cycles", "50", "--writers", "2", "--json", str(result_file)],
        capture_output=True, text=True, cwd=REPO, env=server_env(), timeout=1200,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(result_file.read_text())
    assert result["cycles"] == 50 and result["acknowledged_tasks"] > 50 and result["acknowledged_completions"] > 10
    assert result["lost_tasks"] == 0 and result["lost_completions"] == 0
    assert result["store_problems"] == [] and result["taskweave_check_exit"] == 0
