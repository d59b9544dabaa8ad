"""The server's own settings from the environment: the claim lease and the sweep interval."""

from __future__ import annotations

import pytest

from taskweave.core.domain import DEFAULT_LEASE_SECONDS
from taskweave.errors import InvalidInput
from taskweave.server.run import settings_from_env


def test_defaults_and_overrides() -> None:
    settings, sweep = settings_from_env({})
    assert settings.lease_seconds == DEFAULT_LEASE_SECONDS and sweep > 0
    settings, sweep = settings_from_env({"TASKWEAVE_LEASE_SECONDS": "3", "TASKWEAVE_SWEEP_SECONDS": "0.2"})
    assert settings.lease_seconds == 3 and sweep == 0.2


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_bad_values_are_refused_with_a_hint(value: str) -> None:
    with pytest.raises(InvalidInput, match="TASKWEAVE_LEASE_SECONDS") as refused:
        settings_from_env({"TASKWEAVE_LEASE_SECONDS": value})
    assert "above 0" in refused.value.hint
