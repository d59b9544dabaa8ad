"""`taskweave hooks CLIENT`: the session-start hook that runs `taskweave prime`, printed or merged into the project.

Each supported client has a project settings file with a hook that runs a
command when an agent's session starts (and, for Claude Code and Codex, again
after its context is compacted); what the command prints reaches the agent's
context. The entry names this taskweave by its absolute path, as `taskweave
config` does. Our entry is recognised by its command (a taskweave executable
running `prime`), never by its position, so installing twice adds nothing,
installing from another path replaces it, and uninstalling removes only it.
Every other setting and hook of the file is kept; the file is rewritten
atomically, indented by 2, and a file that is not valid JSON is refused as it is.

Sources: Claude Code's hooks reference (code.claude.com/docs/en/hooks); Codex's
hooks page (developers.openai.com/codex/hooks); Gemini CLI's hooks reference
(geminicli.com/docs/hooks); Cursor's agent hooks (cursor.com/docs/agent/hooks).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskweave.cli.client_config import running_command
from taskweave.core.tool_names import GET_STATUS, INITIALIZE_SESSION
from taskweave.errors import TaskweaveError

Document = dict[str, Any]
PROGRAMS = ("taskweave", "taskweave.exe")
FIX_BY_HAND = "Fix the file and run this again, or merge by hand the entry that `taskweave hooks CLIENT` prints."


class Unsupported(TaskweaveError):
    """The client has no session-start hook that taskweave can install."""

    code = "unsupported"


@dataclass(frozen=True)
class HookClient:
    title: str
    settings: str
    """The settings file, relative to the workspace root."""
    event: str
    grouped: bool
    """Entries are matcher groups holding handlers (Claude Code's layout); else the handlers themselves (Cursor's)."""
    handler: Callable[[str], Document]
    matcher: str | None = None
    top: tuple[tuple[str, Any], ...] = ()
    """Top-level keys the file must hold, added when missing."""
    notes: tuple[str, ...] = ()

    def entry(self, command: str) -> Document:
        """Our entry in the event's list."""
        handler = self.handler(command)
        if not self.grouped:
            return handler
        group: Document = {"matcher": self.matcher} if self.matcher is not None else {}
        return {**group, "hooks": [handler]}

    def fragment(self, command: str) -> Document:
        """What `--install` merges into the settings file."""
        return {**dict(self.top), "hooks": {self.event: [self.entry(command)]}}


CLIENTS: dict[str, HookClient] = {
    # SessionStart's plain stdout is added to Claude's context; "compact" runs it again after a compaction
    # (PreCompact's output only reaches the debug log, so a PreCompact hook would run prime for nothing).
    "claude-code": HookClient(
        title="Claude Code",
        settings=".claude/settings.json",
        event="SessionStart",
        grouped=True,
        matcher="startup|resume|clear|compact|fork",
        handler=lambda command: {"type": "command", "command": command, "timeout": 10},
    ),
    # Codex reads the same layout from the project's .codex/hooks.json; plain stdout becomes model context.
    "codex": HookClient(
        title="Codex",
        settings=".codex/hooks.json",
        event="SessionStart",
        grouped=True,
        matcher="startup|resume|clear|compact",
        handler=lambda command: {"type": "command", "command": command, "timeout": 10},
        notes=(
            "Codex loads a project's hooks only when the project is trusted, and runs a new or changed hook only "
            "once you trust it: review it with /hooks in Codex.",
        ),
    ),
    # Gemini CLI parses a hook's stdout as JSON; lifecycle matchers are exact strings, so "*" takes every source.
    "gemini": HookClient(
        title="Gemini CLI",
        settings=".gemini/settings.json",
        event="SessionStart",
        grouped=True,
        matcher="*",
        handler=lambda command: {"name": "taskweave-prime", "type": "command", "command": command, "timeout": 10_000},
        notes=("Gemini CLI fingerprints project hooks and warns you before it runs a new or changed one.",),
    ),
    "cursor": HookClient(
        title="Cursor",
        settings=".cursor/hooks.json",
        event="sessionStart",
        grouped=False,
        handler=lambda command: {"command": command},
        top=(("version", 1),),
        notes=(
            "Cursor's editor has been reported to drop a sessionStart hook's context when the conversation starts "
            "before the hook ends (the Cursor CLI delivers it); a rule in .cursor/rules that names taskweave "
            "is a dependable companion.",
        ),
    ),
}

ADVICE = (
    f"tell its agents in the project's instructions that this project uses taskweave: call {INITIALIZE_SESSION} "
    f"first, then {GET_STATUS}"
)
WITHOUT_HOOKS = {
    "claude-desktop": f"Claude Desktop runs no hooks; instead, {ADVICE} (a Claude project's instructions).",
    "vscode": f"taskweave does not install VS Code's agent hooks (a preview feature); instead, {ADVICE} "
    "(.github/copilot-instructions.md or AGENTS.md).",
    "windsurf": f"Windsurf's Cascade hooks run around actions, not at a session's start; instead, {ADVICE} "
    "(.windsurf/rules or AGENTS.md).",
    "zed": f"Zed runs no agent hooks; instead, {ADVICE} (AGENTS.md or .rules).",
}
CHOICES = (*CLIENTS, *WITHOUT_HOOKS)


# --- our command ----------------------------------------------------------------------------------


def prime_command(client: str, store: str | None) -> str:
    """The shell command that runs this taskweave's `prime` for `client`'s hook."""
    command, args = running_command()
    # running_command() names the server: the same program, with `serve` as its last argument.
    words = [command, *args[:-1], "prime", "--hook", client]
    if store:
        words += ["--store", _store_location(store)]
    return shlex.join(words)


def _store_location(store: str) -> str:
    """A SQLite path made absolute (the hook runs wherever the client runs it); a URL as given."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", store):
        return store
    return os.path.abspath(os.path.expanduser(store))


def runs_prime(command: object) -> bool:
    """Whether a hook's command is ours: a taskweave executable (or `python -m taskweave`) running `prime`."""
    if not isinstance(command, str):
        return False
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    if words and os.path.basename(words[0]).lower() in PROGRAMS:
        rest = words[1:]
    elif len(words) >= 3 and words[1:3] == ["-m", "taskweave"]:
        rest = words[3:]
    else:
        return False
    return bool(rest) and rest[0] == "prime"


# --- merging --------------------------------------------------------------------------------------


def client_spec(name: str) -> HookClient:
    if name in WITHOUT_HOOKS:
        raise Unsupported(WITHOUT_HOOKS[name])
    return CLIENTS[name]


def install(spec: HookClient, document: Document, command: str) -> Document:
    """`document` with our entry as the only one of ours in the event; `document` itself if it has it already."""
    entries = _entries(spec, document)
    ours = [entry for entry in entries if _is_ours(spec, entry)]
    wanted = spec.entry(command)
    if ours == [wanted] and all(document.get(key) is not None for key, _ in spec.top):
        return document
    merged = {**{key: value for key, value in spec.top if key not in document}, **document}
    hooks = dict(merged.get("hooks") or {})
    hooks[spec.event] = [*_without_ours(spec, entries), wanted]
    merged["hooks"] = hooks
    return merged


def uninstall(spec: HookClient, document: Document) -> Document:
    """`document` without our entries; an event or `hooks` left empty by that is removed."""
    hooks = document.get("hooks")
    if not isinstance(hooks, dict):
        return document
    kept_hooks: Document = {}
    for event, entries in hooks.items():
        if not isinstance(entries, list):
            kept_hooks[event] = entries
            continue
        kept = _without_ours(spec, entries)
        if kept or not entries:
            kept_hooks[event] = kept
    if kept_hooks == hooks:
        return document
    result = {key: value for key, value in document.items() if key != "hooks"}
    if kept_hooks:
        result["hooks"] = kept_hooks
    return result


def _entries(spec: HookClient, document: Document) -> list[Any]:
    hooks = document.get("hooks", {})
    if not isinstance(hooks, dict):
        raise TaskweaveError(f'"hooks" in {spec.settings} is not an object.', hint=FIX_BY_HAND)
    entries = hooks.get(spec.event, [])
    if not isinstance(entries, list):
        raise TaskweaveError(
            f'"hooks.{spec.event}" in {spec.settings} is not a list.', hint=FIX_BY_HAND
        )
    return entries


def _is_ours(spec: HookClient, entry: object) -> bool:
    if not isinstance(entry, dict):
        return False
    if not spec.grouped:
        return runs_prime(entry.get("command"))
    handlers = entry.get("hooks")
    return isinstance(handlers, list) and any(isinstance(h, dict) and runs_prime(h.get("command")) for h in handlers)


def _without_ours(spec: HookClient, entries: list[Any]) -> list[Any]:
    """The entries with our handlers taken out; a group left with no handler goes too."""
    kept: list[Any] = []
    for entry in entries:
        if not _is_ours(spec, entry):
            kept.append(entry)
        elif spec.grouped:
            others = [h for h in entry["hooks"] if not (isinstance(h, dict) and runs_prime(h.get("command")))]
            if others:
                kept.append({**entry, "hooks": others})
    return kept


# --- the settings file ----------------------------------------------------------------------------


def settings_path(spec: HookClient, directory: str | None) -> Path:
    """The client's settings file in the workspace root of `directory`."""
    from taskweave.core.sessions import refuse_too_wide
    from taskweave.workspace import detect_workspace

    root = detect_workspace(directory).root
    refuse_too_wide(root)
    return Path(root) / spec.settings


def read_settings(path: Path) -> Document | None:
    """The settings file's JSON object; None when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise TaskweaveError(f"Cannot read {path}: {error.strerror}.", hint="Check the file's permissions.") from error
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise TaskweaveError(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); nothing was changed.",
            hint=FIX_BY_HAND,
        ) from error
    if not isinstance(document, dict):
        raise TaskweaveError(
            f"{path} holds a JSON {type(document).__name__}, not an object; nothing was changed.",
            hint=FIX_BY_HAND,
        )
    return document


def write_settings(path: Path, document: Document) -> None:
    """Replace the file with `document` in one step: a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise

