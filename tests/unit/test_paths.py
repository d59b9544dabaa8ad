"""Path reservations: globs checked and normalized, and overlap decided conservatively."""

from __future__ import annotations

import pytest

from taskweave.core.paths import PATHS, checked, conflicts, overlaps
from taskweave.errors import InvalidInput


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("src/api/**", "src/api/handlers.py", True),
        ("src/api", "src/api/handlers.py", True),
        ("src/api", "src/apiary", False),
        ("src/*.py", "src/api/x.py", False),
        ("src/*.py", "src/*.js", False),
        ("src/a*", "src/*b", True),
        ("docs/**", "src/**", False),
        ("**/*.md", "docs/guide/readme.md", True),
        ("**", "anything/at/all", True),
        ("tests/test_*.py", "tests/conftest.py", False),
        ("src/[ab].py", "src/c.py", False),
        ("src/[ab].py", "src/a.py", True),
        ("src/[!a].py", "src/a.py", False),
        ("lib/**/util.py", "lib/x/y/util.py", True),
        ("lib/**/util.py", "lib/x/y/other.py", True),  # conservative: lib/x/y/other.py/util.py could exist
        ("lib/**/util.py", "docs/util.py", False),
    ],
)
def test_overlap(first: str, second: str, expected: bool) -> None:
    assert overlaps(first, second) is expected and overlaps(second, first) is expected


def test_patterns_are_normalized_and_deduplicated() -> None:
    assert checked(["./src//api/", "src/api", "docs\\guide.md"]) == ["src/api", "docs/guide.md"]
    assert conflicts(["src/**", "docs/x.md"], ["src/a.py", "README.md"]) == [("src/**", "src/a.py")]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("/etc/passwd", "an absolute path"),
        ("~/notes", "an absolute path"),
        ("C:/work", "an absolute path"),
        ("../elsewhere", "leaves the workspace"),
        ("src/../../x", "leaves the workspace"),
        (".", "the whole workspace"),
        ("  ", "is empty"),
        ("src/[ab", "not a well-formed glob"),
        ("src/a**b", "not a well-formed glob"),
        ("x" * 301, "the limit is 300"),
    ],
)
def test_bad_patterns_are_refused_clearly(pattern: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[")) as refused:
        checked([pattern])
    assert "relative to the workspace root" in refused.value.hint and len(refused.value.message) < 200


def test_too_many_patterns_are_refused() -> None:
    with pytest.raises(InvalidInput, match=f"the limit is {PATHS}"):
        checked([f"f{n}" for n in range(PATHS + 1)])
