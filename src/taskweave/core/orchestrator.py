"""`Orchestrator`: the domain's use cases, grouped by who calls them, over one store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from taskweave.core.domain import Domain, Settings
from taskweave.core.messages import Messages
from taskweave.core.reading import Reading
from taskweave.core.reports import Reports
from taskweave.core.sessions import Sessions
from taskweave.core.tasks import Tasks
from taskweave.core.upkeep import Upkeep
from taskweave.core.work import Work
from taskweave.store import Store, open_store


class Orchestrator:
    """Agents call `sessions`, `tasks`, `work`, `reports`, `messages` and `reading`; a server also calls `upkeep`."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time, settings: Settings = Settings()) -> None:
        self.domain = Domain(store, clock=clock, settings=settings)
        self.sessions = Sessions(self.domain)
        self.tasks = Tasks(self.domain)
        self.work = Work(self.domain)
        self.reports = Reports(self.domain)
        self.messages = Messages(self.domain)
        self.reading = Reading(self.sessions, self.tasks, self.reports, self.messages)
        self.upkeep = Upkeep(self.domain)

    @property
    def store(self) -> Store:
        return self.domain.store

    @property
    def settings(self) -> Settings:
        return self.domain.settings

    @classmethod
    @contextmanager
    def open(cls, location: str | None = None, *, settings: Settings = Settings()) -> Iterator[Orchestrator]:
        store = open_store(location)
        try:
            yield cls(store, settings=settings)
        finally:
            store.close()
