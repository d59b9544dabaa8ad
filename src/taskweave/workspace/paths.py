"""Where detection starts: the precedence of sources and the forms a path arrives in.

Clients hand over directories as `file://` URIs (percent-encoded, sometimes in
Windows form such as `/c%3A/Users/...`), as `~` paths, or as placeholders their
host never expanded (`${workspaceFolder}`). This module turns each into a local
directory or a warning, and applies the precedence: explicit argument > MCP
roots > `TASKWEAVE_WORKSPACE` > the server's working directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from taskweave.errors import InvalidInput, clipped, shown

ENV_VAR = "TASKWEAVE_WORKSPACE"

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\$\([^)]*\)|%[A-Za-z_][A-Za-z0-9_]*%")
_WINDOWS_DRIVE = re.compile(r"^/?([A-Za-z])(?::|%3[Aa])(?=[/\\]|$)(.*)$")


@dataclass(frozen=True)
class Start:
    """The directory detection starts from, the source that supplied it, and what was skipped."""

    path: str
    source: str
    given: str
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Unusable(Exception):
    """A candidate directory that cannot be used; the message says why."""


def home_dir(environ: Mapping[str, str]) -> str:
    """The user's home directory, from `environ` when it says."""
    return environ.get("HOME") or os.path.expanduser("~")


def placeholder_in(value: str) -> str | None:
    """The unexpanded placeholder in `value` (`${workspaceFolder}`, `%USERPROFILE%`), if any."""
    match = _PLACEHOLDER.search(value)
    return match.group(0) if match else None


def to_local_path(value: str, *, home: str) -> str:
    """A filesystem path from a path or `file://` URI; `~` expanded, URI escapes decoded.

    A Windows form (`file:///c%3A/Users/x`, `/c%3A/Users/x`) becomes `c:/Users/x`;
    the result may still be relative.
    """
    text = value.strip()
    if text.lower().startswith("file:"):
        rest = text[len("file:"):].split("?", 1)[0].split("#", 1)[0]
        host = ""
        if rest.startswith("//"):
            host, _, rest = rest[2:].partition("/")
            rest = "/" + rest
        text = _unquote(rest)
        if host and host.lower() != "localhost":
            text = f"//{host}{text}"  # UNC share: file://server/share
    drive = _WINDOWS_DRIVE.match(text)
    if drive:
        return f"{drive.group(1).lower()}:{_unquote(drive.group(2)) or '/'}".replace("\\", "/")
    if text == "~" or text.startswith(("~/", "~\\")):
        return home + text[1:]
    if text.startswith("~"):
        return os.path.expanduser(text)
    return text


def resolve_dir(value: str, *, base: str, home: str) -> str:
    """The real absolute directory `value` names, or `Unusable` saying why not."""
    path = to_local_path(value, home=home)
    if not os.path.isabs(path):
        if _WINDOWS_DRIVE.match(path):
            raise Unusable(f"{shown(value)} is a Windows path, which does not exist on this machine")
        path = os.path.join(base, path)
    if not os.path.lexists(path) and os.path.lexists(_unquote(path)):
        path = _unquote(path)
    if os.path.islink(path) and not os.path.exists(path):
        raise Unusable(f"{shown(value)} is a broken symbolic link")
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as error:
        if not os.path.lexists(path):
            raise Unusable(f"{shown(value)} does not exist") from None
        raise Unusable(f"{shown(value)} cannot be resolved ({error.strerror or error})") from None
    if not os.path.isdir(real):
        raise Unusable(f"{shown(value)} is a file, not a directory")
    if not os.access(real, os.R_OK | os.X_OK):
        raise Unusable(f"{shown(value)} is not readable (permission denied)")
    return real


def choose_start(
    working_directory: str | None,
    roots: Sequence[str],
    environ: Mapping[str, str],
    cwd: str | None,
) -> Start:
    """Apply the precedence and return the first usable starting directory.

    An explicit `working_directory` that is unusable is an error, because the
    caller asked for that directory. An empty one counts as absent (clients
    send `""` for an omitted argument), and one that is an unexpanded
    placeholder is skipped with a warning. A relative one is taken relative to
    the client's first root when there is one, else to the working directory.
    Unusable roots, environment values or working directory are skipped with a
    warning.
    """
    home = home_dir(environ)
    base_cwd = cwd if cwd is not None else _getcwd()
    warnings: list[str] = []
    notes: list[str] = []
    if working_directory is not None and not working_directory.strip():
        notes.append("empty working_directory treated as not given")
    elif working_directory is not None:
        holder = placeholder_in(working_directory)
        if not holder:
            base = _first_usable_root(roots, home) or base_cwd or os.sep
            return _explicit_start(working_directory, base, home, notes)
        warnings.append(f"working_directory {shown(working_directory)} holds the unexpanded placeholder {holder}; ignored")

    usable_roots = [root for root in roots if isinstance(root, str) and root.strip()]
    candidates = [("roots", root) for root in usable_roots]
    if environ.get(ENV_VAR, "").strip():
        candidates.append(("env", environ[ENV_VAR]))
    if base_cwd:
        candidates.append(("cwd", base_cwd))
    for source, value in candidates:
        label = {"roots": "MCP root", "env": ENV_VAR, "cwd": "working directory"}[source]
        holder = placeholder_in(value)
        if holder:
            warnings.append(f"{label} {shown(value)} holds the unexpanded placeholder {holder}; ignored")
            continue
        try:
            path = resolve_dir(value, base=base_cwd or os.sep, home=home)
        except Unusable as error:
            warnings.append(f"{label} {error}; ignored")
            continue
        unused = [root for root in usable_roots if root is not value] if source == "roots" else []
        if unused:
            notes.append(f"{len(unused)} more MCP root(s) not used: {', '.join(unused)}")
        return Start(path, source, value, warnings, notes)

    raise InvalidInput(
        "No usable directory to detect a workspace from" + (f" ({'; '.join(warnings)})." if warnings else "."),
        hint="Pass working_directory with the absolute path of the project, or set TASKWEAVE_WORKSPACE.",
    )


def _explicit_start(working_directory: str, base: str, home: str, notes: list[str]) -> Start:
    if not os.path.isabs(to_local_path(working_directory, home=home)):
        notes.append(f"relative working_directory {shown(working_directory)} taken relative to {base}")
    try:
        path = resolve_dir(working_directory, base=base, home=home)
    except Unusable as error:
        raise InvalidInput(
            f"The working_directory {error}.",
            hint="Pass the absolute path of an existing project directory, or omit working_directory to use the "
            "client's roots.",
            working_directory=clipped(working_directory),
        ) from None
    return Start(path, "argument", working_directory, [], notes)


def _unquote(text: str) -> str:
    if "%" not in text:
        return text
    from urllib.parse import unquote  # rarely needed; keeps `taskweave detect` start-up small

    return unquote(text)


def _first_usable_root(roots: Sequence[str], home: str) -> str | None:
    for root in roots:
        if not isinstance(root, str) or not root.strip() or placeholder_in(root):
            continue
        try:
            return resolve_dir(root, base=os.sep, home=home)
        except Unusable:
            continue
    return None


def _getcwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the server's directory was deleted under it
        return None
