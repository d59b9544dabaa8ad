"""Reading manifest contents where they decide something, and degrading to names when they cannot.

Every read is bounded and tolerant: an empty, unreadable or malformed file
answers None ("cannot tell") and detection falls back to names and layout.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from taskweave.workspace.scan import Listing, read_head, read_text_head

MAX_BYTES = 256 * 1024

_SHELLS = frozenset({"sh", "bash", "zsh", "ksh", "dash", "fish", "ash", "mksh"})
_PUBSPEC_FLUTTER = re.compile(r"^(flutter:|\s+sdk:\s*flutter\b)", re.M)
_PUBSPEC_WORKSPACE = re.compile(r"^workspace:", re.M)
_NAMED_WORKSPACES = (
    "pnpm-workspace.yaml", "go.work", "lerna.json", "nx.json", "turbo.json", "rush.json",
    "melos.yaml", "cabal.project", "dune-workspace", "settings.gradle", "settings.gradle.kts",
)


def read_text(path: str) -> str | None:
    """The start of a text file; None when it is missing, unreadable or empty."""
    text = read_text_head(path, MAX_BYTES)
    return text if text and text.strip() else None


def shebang(path: str) -> str | None:
    """The interpreter line of a script; "" when it has content but no shebang; None when empty."""
    head = read_head(path, 256)
    if head is None or not head.strip():
        return None
    if not head.startswith(b"#!"):
        return ""
    return head[2:].split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()


def is_shell_interpreter(line: str) -> bool:
    """Whether a shebang line (`/usr/bin/env bash`, `/bin/sh -e`) runs a shell."""
    words = [os.path.basename(word) for word in line.split()]
    if words and words[0] == "env":
        words = [word for word in words[1:] if not word.startswith("-")]
    return bool(words) and words[0] in _SHELLS


def pubspec_uses_flutter(path: str) -> bool | None:
    """Whether a pubspec.yaml declares Flutter; None when it cannot be read."""
    text = read_text(path)
    return None if text is None else bool(_PUBSPEC_FLUTTER.search(text))


def workspace_facts(root: str, listing: Listing) -> dict[str, Any]:
    """Which manifests at the root declare a multi-project workspace, with its members when listed."""
    declared: dict[str, Any] = {}
    if "Cargo.toml" in listing.files:
        cargo = _toml(os.path.join(root, "Cargo.toml"))
        if cargo and isinstance(cargo.get("workspace"), dict):
            declared["Cargo.toml"] = cargo["workspace"].get("members", [])
    if "package.json" in listing.files:
        package = _json(os.path.join(root, "package.json"))
        workspaces = package.get("workspaces") if isinstance(package, dict) else None
        if isinstance(workspaces, dict):
            workspaces = workspaces.get("packages")
        if workspaces:
            declared["package.json"] = workspaces
    if "pyproject.toml" in listing.files:
        pyproject = _toml(os.path.join(root, "pyproject.toml")) or {}
        uv = pyproject.get("tool", {}).get("uv", {}) if isinstance(pyproject.get("tool"), dict) else {}
        if isinstance(uv, dict) and isinstance(uv.get("workspace"), dict):
            declared["pyproject.toml"] = uv["workspace"].get("members", [])
    for name in ("deno.json", "deno.jsonc"):
        deno = _json(os.path.join(root, name)) if name in listing.files else None
        if isinstance(deno, dict) and deno.get("workspace"):
            declared[name] = deno["workspace"]
    if "pubspec.yaml" in listing.files:
        text = read_text(os.path.join(root, "pubspec.yaml"))
        if text and _PUBSPEC_WORKSPACE.search(text):
            declared["pubspec.yaml"] = []
    declared.update({name: [] for name in _NAMED_WORKSPACES if name in listing.files})
    declared.update({name: [] for name in sorted(listing.files) if name.endswith((".sln", ".slnx"))})
    return {"workspace_manifests": declared} if declared else {}


def _toml(path: str) -> dict[str, Any] | None:
    text = read_text(path)
    if text is None:
        return None
    import tomllib  # only a non-empty Cargo.toml or pyproject.toml pays for the TOML parser

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _json(path: str) -> Any:
    text = read_text(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
