"""`Orchestrator`: the domain's use cases, grouped by who calls them, over one store."""

from __future__ import annotations

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
from taskweave.errors import StoreError
from taskweave.store import Store, open_store
from taskweave.store.schema import SCHEMA_VERSION


class Orchestrator:
    """Agents call `sessions`, `tasks`, `work`, `reports`, `messages` and `reading`; a server also calls `upkeep`."""

    def __init__(
        self, store: Store, *, clock: Callable[[], float] | None = None, settings: Settings = Settings()
    ) -> None:
        """`clock` defaults to the store's own: on PostgreSQL, the database's, shared by every instance."""
        self.domain = Domain(store, clock=clock or store.now, settings=settings)
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
    def open(
        cls, location: str | None = None, *, settings: Settings = Settings(), read_only: bool = False
    ) -> Iterator[Orchestrator]:
        """The use cases over the store at `location`; `read_only` for commands that only look."""
        store = open_store(location, read_only=read_only)
        try:
            if store.schema_version != SCHEMA_VERSION:
                raise StoreError(
                    f"The store {store.url} has schema version {store.schema_version}; this taskweave reads "
                    f"version {SCHEMA_VERSION}.",
                    hint="Start a server on it once (taskweave serve): it upgrades the store after a backup.",
                )
            yield cls(store, settings=settings)
        finally:
            store.close()
