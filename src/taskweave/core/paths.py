"""Path reservations: the globs a claim reserves, checked, and whether two of them can touch the same file.

A pattern is relative to the workspace root, with `/` between segments: `*` and
`?` and `[...]` match within one segment, `**` matches any number of segments.
Reserving a path reserves everything under it, so `src/api` covers
`src/api/routes.py`. Two patterns overlap when some path can match both, or one
can lie under the other. The decision is conservative: when two wildcard
segments could match a common name, they are taken to overlap, so a refusal may
be cautious but a reservation never lets two claims edit the same file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from taskweave.core import limits
from taskweave.errors import InvalidInput, shown

PATHS = 50
PATH_CHARS = 300
_WILDCARD = re.compile(r"[*?\[]")
_DRIVE = re.compile(r"^[A-Za-z]:")

HINT = (
    "Give globs relative to the workspace root, with / between folders, such as src/api/** or docs/*.md; "
    "`*` stays within a folder, `**` spans folders."
)


def checked(raw: Sequence[str]) -> list[str]:
    """The patterns, normalized (`./` and repeated slashes dropped), or a refusal naming the bad one."""
    limits.count("paths", raw, PATHS)
    patterns: list[str] = []
    for index, given in enumerate(raw):
        where = f"paths[{index}]"
        pattern = given.strip().replace("\\", "/")
        if not pattern:
            raise InvalidInput(f"'{where}' is empty.", hint=HINT)
        if len(pattern) > PATH_CHARS:
            raise InvalidInput(f"'{where}' is {len(pattern):,} characters long; the limit is {PATH_CHARS}.", hint=HINT)
        if pattern.startswith(("/", "~")) or _DRIVE.match(pattern):
            raise InvalidInput(f"'{where}' is {shown(given)}, an absolute path.", hint=HINT)
        segments = [s for s in pattern.split("/") if s not in ("", ".")]
        if not segments:
            raise InvalidInput(f"'{where}' is {shown(given)}, which names the whole workspace.", hint=HINT)
        if ".." in segments:
            raise InvalidInput(f"'{where}' is {shown(given)}: it leaves the workspace.", hint=HINT)
        for segment in segments:
            if not _well_formed(segment):
                raise InvalidInput(
                    f"'{where}' is {shown(given)}: {shown(segment)} is not a well-formed glob segment.",
                    hint=HINT,
                )
        patterns.append("/".join(segments))
    return list(dict.fromkeys(patterns))


def _well_formed(segment: str) -> bool:
    if "**" in segment and segment != "**":
        return False
    try:
        _segment_regex(segment)
    except (ValueError, re.error):
        return False
    return True


def overlaps(first: str, second: str) -> bool:
    """Whether a path can match both patterns, or one pattern can reserve a path under the other's."""
    return _overlap(tuple(first.split("/")), tuple(second.split("/")))


@lru_cache(maxsize=4096)
def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if not a or not b:
        return True  # one pattern ended: what it reserves contains whatever the other goes on to
    if a[0] == "**":
        return _overlap(a[1:], b) or _overlap(a, b[1:])
    if b[0] == "**":
        return _overlap(a, b[1:]) or _overlap(a[1:], b)
    return _segments_meet(a[0], b[0]) and _overlap(a[1:], b[1:])


def _segments_meet(first: str, second: str) -> bool:
    """Whether one folder or file name can match both segment patterns (conservatively, for two wildcards)."""
    first_wild, second_wild = bool(_WILDCARD.search(first)), bool(_WILDCARD.search(second))
    if not first_wild and not second_wild:
        return first == second
    if not first_wild or not second_wild:
        name, pattern = (first, second) if not first_wild else (second, first)
        return _segment_regex(pattern).fullmatch(name) is not None
    prefix_a, suffix_a = _fixed_ends(first)
    prefix_b, suffix_b = _fixed_ends(second)
    prefixes_agree = prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)
    suffixes_agree = suffix_a.endswith(suffix_b) or suffix_b.endswith(suffix_a)
    return prefixes_agree and suffixes_agree


def _fixed_ends(segment: str) -> tuple[str, str]:
    """The literal text before the first wildcard and after the last one."""
    starts = [m.start() for m in _WILDCARD.finditer(segment)]
    last = max(segment.rfind("*"), segment.rfind("?"), segment.rfind("]"))
    return segment[: starts[0]], segment[last + 1 :]


@lru_cache(maxsize=1024)
def _segment_regex(pattern: str) -> re.Pattern[str]:
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.index("]", index)
            body = pattern[index + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out))


def conflicts(mine: Sequence[str], theirs: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair of one of `mine` and one of `theirs` that overlap."""
    return [(a, b) for a in mine for b in theirs if overlaps(a, b)]
