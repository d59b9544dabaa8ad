"""The whole domain suite of test_orchestrator.py again, on a PostgreSQL store.

Importing the tests makes pytest collect them here too, where `orchestrator`
is bound to a fresh PostgreSQL database instead of a SQLite file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from taskweave.core.service import Orchestrator
from taskweave.store.postgres import PostgresStore

from .conftest import Clock
from .test_orchestrator import *  # noqa: F403
from .test_postgres import pg_url  # noqa: F401


@pytest.fixture
def orchestrator(pg_url: str, clock: Clock) -> Iterator[Orchestrator]:  # noqa: F811
    store = PostgresStore(pg_url)
    try:
        yield Orchestrator(store, clock=clock)
    finally:
        store.close()
