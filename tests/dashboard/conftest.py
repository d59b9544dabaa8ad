"""The dashboard tier: real `taskweave dashboard` and `taskweave serve --http` processes, driven by a real Chromium.

The browser is the system's Chromium (Debian's `chromium` package), driven by
Playwright for Python through `executable_path`: Playwright never downloads a
browser of its own here. Without Chromium the browser tests skip and say why,
except under `CI=true`, where they fail. Every page a test opens is watched:
an uncaught page error, a console error or a request to another origin fails it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import SERVE, free_port, server_env, stop_process, wait_listening

CHROMIUM = os.environ.get("TASKWEAVE_TEST_CHROMIUM", "/usr/bin/chromium")
# The network here is closed: without these, Chromium keeps reaching for its own services.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DASHBOARD = [SERVE[0], "-m", "taskweave", "dashboard"]


def require_chromium() -> str:
    found = shutil.which(CHROMIUM)
    if found is None:
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(reason)
    return found


class DashboardProcess:
    """`taskweave dashboard` (or `serve --http`, which serves it at `/`) in a process of its own."""

    def __init__(self, store: str, cwd: Path, *, serve: bool = False, host: str = "127.0.0.1", **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [*SERVE, "--http"] if serve else DASHBOARD
        self.process = subprocess.Popen(
            [*command, "--store", store, "--host", host, "--port", str(self.port)],
            cwd=cwd, env=server_env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        wait_listening(self.process, self.port, "the dashboard")

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
def start_dashboard() -> Iterator[Callable[..., DashboardProcess]]:
    """`start_dashboard(store, cwd, ...)`: a `DashboardProcess`, stopped at the end of the test.

    Ask for it before `open_page`, so that pages close before their server stops.
    """
    started: list[DashboardProcess] = []

    def start(store: str, cwd: Path, **options: Any) -> DashboardProcess:
        started.append(DashboardProcess(store, cwd, **options))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def dashboard(start_dashboard: Callable[..., DashboardProcess], store: str, project: Path) -> DashboardProcess:
    return start_dashboard(store, project)


@dataclass
class Watch:
    """What went wrong on the pages of one browser context."""

    origin: str
    allowed: tuple[str, ...] = ()  # console errors a test expects, e.g. the browser's note of a refused request
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def console(self, kind: str, text: str) -> None:
        if kind == "error" and not any(expected in text for expected in self.allowed):
            self.errors.append(f"console {kind}: {text}")

    def check(self) -> None:
        assert not self.errors, self.errors
        assert not self.foreign, f"requests to other origins: {self.foreign}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module: Playwright's sync API holds an event loop on this thread while it runs,
    so it must be gone before the tests of other modules run theirs."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """`open_page(origin)`: a new page in a fresh context, watched for errors and foreign requests."""
    contexts: list[tuple[Any, Watch]] = []

    def opener(origin: str, *, allowed: tuple[str, ...] = (), width: int = 1440, height: int = 1000) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        watch = Watch(origin, allowed)

        def route(route: Any) -> None:
            if route.request.url.startswith(origin + "/"):
                route.continue_()
            else:
                watch.foreign.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
        page.on("console", lambda m: watch.console(m.type, m.text))
        contexts.append((context, watch))
        return page

    yield opener
    for context, watch in contexts:
        context.close()
    for _, watch in contexts:
        watch.check()
