"""The taskweave:// URI scheme: what the domain writes, the server reads back."""

from __future__ import annotations

import pytest

from taskweave.core import uris


def test_every_uri_reads_back_as_what_it_names() -> None:
    assert uris.parse(uris.status_uri("s_1")) == uris.ResourceName(session_id="s_1")
    assert uris.parse(uris.task_uri("t_1")) == uris.ResourceName(task_id="t_1")
    assert uris.parse(uris.artifact_uri("a_1")) == uris.ResourceName(artifact_id="a_1")


@pytest.mark.parametrize("uri", ["taskweave://tasks/", "taskweave://tasks/a/b", "file:///tmp", "taskweave://sessions/s_1"])
def test_anything_else_names_nothing(uri: str) -> None:
    assert uris.parse(uri) is None
