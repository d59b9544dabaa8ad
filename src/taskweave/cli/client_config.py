"""Registration snippets for MCP clients (`taskweave config CLIENT`).

A snippet is exactly what goes into the client's configuration: a JSON or TOML
document, or for Claude Code the shell command, so that it can be pasted or
redirected as it is. Where it goes and what else to do is for a person, and is
kept apart from it (the command prints it on stderr).

Clients start stdio servers with a minimal environment and their own PATH, so a
snippet names the executable that is running by its absolute path. With
`--http URL` it points the client at the shared daemon instead; when
`TASKWEAVE_TOKEN` is set, the snippet refers to the token (an environment
variable the client expands, a prompt, a placeholder) and never contains it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Mapping
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

from taskweave.errors import TaskweaveError

SERVER_NAME = "taskweave"
TOKEN_VARIABLE = "TASKWEAVE_TOKEN"
TOKEN_PLACEHOLDER = f"<{TOKEN_VARIABLE}>"

Document = dict[str, object]


class Launch(NamedTuple):
    """How a client starts `taskweave serve` over stdio."""

    command: str
    args: list[str]
    env: dict[str, str]

    def entry(self) -> Document:
        """The `command` / `args` / `env` object most clients share."""
        entry: Document = {"command": self.command, "args": list(self.args)}
        if self.env:
            entry["env"] = dict(self.env)
        return entry


class Remote(NamedTuple):
    """The daemon a client connects to over Streamable HTTP."""

    url: str
    token: bool
    """`TASKWEAVE_TOKEN` is set: the snippet must send it, without containing it."""

    def bearer(self, reference: str) -> Document:
        """`{"headers": {"Authorization": "Bearer <reference>"}}` when a token is needed, else nothing."""
        return {"headers": {"Authorization": f"Bearer {reference}"}} if self.token else {}


class Rendered(NamedTuple):
    content: Document | str
    notes: tuple[str, ...] = ()


class Client(NamedTuple):
    """How one client is registered: the syntax of its snippet, where it goes, and how to render it."""

    title: str
    syntax: Literal["json", "toml", "shell"]
    where: str
    stdio: Callable[[Launch], Rendered]
    http: Callable[[Remote], Rendered]


class Snippet(NamedTuple):
    text: str
    """Exactly the file content or command: for stdout."""
    notes: list[str]
    """Where it goes and what else to do: for stderr."""


# --- the executable that is running -------------------------------------------------------------


def running_command() -> tuple[str, list[str]]:
    """The absolute command and arguments that start this very taskweave's server.

    The console script that is running (`sys.argv[0]`), else the console script
    installed beside this interpreter, else this interpreter with `-m taskweave`.
    Never a search of PATH: the first `taskweave` there may be another install.
    """
    script = _console_script(sys.argv[0] if sys.argv else "")
    if script is None and sys.executable:
        beside = os.path.dirname(os.path.abspath(sys.executable))
        script = _console_script(os.path.join(beside, "taskweave"))
    if script is not None:
        return script, ["serve"]
    if not sys.executable:
        raise TaskweaveError(
            "Cannot tell which Python interpreter runs taskweave, so there is no command to put in the snippet.",
            hint="Run the taskweave executable by its path, e.g. /path/to/venv/bin/taskweave config CLIENT.",
        )
    return os.path.abspath(sys.executable), ["-m", "taskweave", "serve"]


def _console_script(path: str) -> str | None:
    """`path` made absolute if it is a `taskweave` console script (or its Windows `.exe`)."""
    if os.path.basename(path).lower() not in ("taskweave", "taskweave.exe"):
        return None
    for candidate in (path, f"{path}.exe"):
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    return None


def _store_location(store: str) -> str:
    """A SQLite path made absolute (the client starts the server in a directory of its own); a URL as given."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", store):
        return store
    return os.path.abspath(os.path.expanduser(store))


def http_url(value: str) -> str:
    """An `http://` or `https://` URL of the daemon (an argparse type)."""
    import argparse

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not the daemon's URL; give it as `taskweave serve --http` prints it, e.g. http://127.0.0.1:8765/mcp"
        )
    return value


# --- the clients ----------------------------------------------------------------------------------


def _servers(key: str, entry: Document) -> Document:
    return {key: {SERVER_NAME: entry}}


def _env_note(client: str, how: str) -> str:
    return f"{client} reads {TOKEN_VARIABLE} from its own environment ({how}): start it where {TOKEN_VARIABLE} is set."


def _claude_code_stdio(launch: Launch) -> Rendered:
    # `--env` takes several values, so `--env K=V taskweave` would read the name as one more of them:
    # its `--env=K=V` form ends with the value, and the name after it stays the name.
    options = [f"--env={key}={value}" for key, value in launch.env.items()]
    return Rendered(shlex.join(["claude", "mcp", "add", *options, SERVER_NAME, "--", launch.command, *launch.args]))


def _claude_code_http(remote: Remote) -> Rendered:
    words = [shlex.join(["claude", "mcp", "add", "--transport", "http"])]
    notes: tuple[str, ...] = ()
    if remote.token:
        # Double quotes: the shell puts the token in when the command runs; it is never printed here.
        words.append(f'--header="Authorization: Bearer ${TOKEN_VARIABLE}"')
        notes = (f"Your shell fills in ${TOKEN_VARIABLE} when you run the command; Claude Code keeps the header in its configuration.",)
    words.append(shlex.join([SERVER_NAME, remote.url]))
    return Rendered(" ".join(words), notes)


def _claude_desktop_http(remote: Remote) -> Rendered:
    args = ["-y", "mcp-remote", remote.url]
    parts = urlsplit(remote.url)
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1"):
        args.append("--allow-http")  # mcp-remote refuses plain HTTP beyond these hosts without it
    env: dict[str, str] = {}
    notes = [
        "Claude Desktop's configuration file has no entry for a URL, so this entry runs the mcp-remote bridge to the "
        "daemon through npx (Node.js); if Claude Desktop does not find npx, put its absolute path (`command -v npx`) in \"command\".",
        "A custom connector (Settings > Connectors) takes the URL directly, but Anthropic's cloud makes that "
        "connection: it only reaches a daemon served on the public internet.",
    ]
    if remote.token:
        # No spaces inside the argument: some launchers split it. mcp-remote expands ${AUTH_HEADER} itself.
        args += ["--header", "Authorization:${AUTH_HEADER}"]
        env["AUTH_HEADER"] = f"Bearer {TOKEN_PLACEHOLDER}"
        notes.append(f"Replace {TOKEN_PLACEHOLDER} in \"AUTH_HEADER\" with the daemon's token: Claude Desktop does not expand environment variables.")
    return Rendered(_servers("mcpServers", Launch("npx", args, env).entry()), tuple(notes))


def _vscode_http(remote: Remote) -> Rendered:
    entry: Document = {"type": "http", "url": remote.url, **remote.bearer("${input:taskweave-token}")}
    if not remote.token:
        return Rendered(_servers("servers", entry))
    prompt = {"type": "promptString", "id": "taskweave-token", "description": "taskweave daemon token", "password": True}
    return Rendered(
        {"inputs": [prompt], **_servers("servers", entry)},
        (
            'Merge the "taskweave-token" input into "inputs" too: VS Code asks for the token the first time it starts '
            "the server, and keeps it in its secret storage.",
        ),
    )


def _zed_http(remote: Remote) -> Rendered:
    notes: tuple[str, ...] = ()
    if remote.token:
        notes = (f"Replace {TOKEN_PLACEHOLDER} with the daemon's token: Zed does not expand environment variables in headers.",)
    return Rendered(_servers("context_servers", {"url": remote.url, **remote.bearer(TOKEN_PLACEHOLDER)}), notes)


def _codex_http(remote: Remote) -> Rendered:
    entry: Document = {"url": remote.url}
    if not remote.token:
        return Rendered(_servers("mcp_servers", entry))
    entry["bearer_token_env_var"] = TOKEN_VARIABLE
    return Rendered(_servers("mcp_servers", entry), (_env_note("Codex", "bearer_token_env_var"),))


def _url_entry(key: str, url_field: str, reference: str, note: str) -> Callable[[Remote], Rendered]:
    """A `{key: {"taskweave": {url_field: URL, "headers": ...}}}` snippet whose client expands `reference`."""

    def render(remote: Remote) -> Rendered:
        return Rendered(_servers(key, {url_field: remote.url, **remote.bearer(reference)}), (note,) if remote.token else ())

    return render


def _stdio_entry(key: str, **extra: object) -> Callable[[Launch], Rendered]:
    """A `{key: {"taskweave": {**extra, command, args, env}}}` snippet."""

    def render(launch: Launch) -> Rendered:
        return Rendered(_servers(key, {**extra, **launch.entry()}))

    return render


CLIENTS: dict[str, Client] = {
    "claude-code": Client(
        "Claude Code",
        "shell",
        "Run this in your project: it registers taskweave for you there. Put --scope user before the name to "
        "register it for every project, or --scope project to share it through the project's .mcp.json.",
        _claude_code_stdio,
        _claude_code_http,
    ),
    # claude_desktop_config.json
    "claude-desktop": Client(
        "Claude Desktop",
        "json",
        "Put this in claude_desktop_config.json (Settings > Developer > Edit Config; ~/Library/Application Support/Claude/ "
        "on macOS, %APPDATA%\\Claude\\ on Windows), merging the \"taskweave\" entry into \"mcpServers\"; then restart Claude Desktop.",
        _stdio_entry("mcpServers"),
        _claude_desktop_http,
    ),
    # ~/.cursor/mcp.json or .cursor/mcp.json
    "cursor": Client(
        "Cursor",
        "json",
        "Put this in ~/.cursor/mcp.json (every project) or .cursor/mcp.json in the project, merging the "
        "\"taskweave\" entry into \"mcpServers\".",
        _stdio_entry("mcpServers"),
        _url_entry("mcpServers", "url", f"${{env:{TOKEN_VARIABLE}}}", _env_note("Cursor", f"${{env:{TOKEN_VARIABLE}}}")),
    ),
    # .vscode/mcp.json or the user mcp.json
    "vscode": Client(
        "VS Code",
        "json",
        "Put this in .vscode/mcp.json in the project, or in your user mcp.json (command: MCP: Open User "
        "Configuration), merging the \"taskweave\" entry into \"servers\".",
        _stdio_entry("servers", type="stdio"),
        _vscode_http,
    ),
    # ~/.codeium/windsurf/mcp_config.json
    "windsurf": Client(
        "Windsurf",
        "json",
        "Put this in ~/.codeium/windsurf/mcp_config.json (Windsurf Settings > Cascade > MCP servers > View raw config), "
        "merging the \"taskweave\" entry into \"mcpServers\"; then refresh the MCP servers.",
        _stdio_entry("mcpServers"),
        _url_entry("mcpServers", "serverUrl", f"${{env:{TOKEN_VARIABLE}}}", _env_note("Windsurf", f"${{env:{TOKEN_VARIABLE}}}")),
    ),
    # Zed's settings.json
    "zed": Client(
        "Zed",
        "json",
        "Put this in Zed's settings.json (zed: open settings; ~/.config/zed/settings.json, or .zed/settings.json in "
        "the project), merging the \"taskweave\" entry into \"context_servers\".",
        _stdio_entry("context_servers"),
        _zed_http,
    ),
    # ~/.codex/config.toml
    "codex": Client(
        "Codex",
        "toml",
        "Put this in ~/.codex/config.toml (or .codex/config.toml in a trusted project); "
        "replace any [mcp_servers.taskweave] table already there.",
        _stdio_entry("mcp_servers"),
        _codex_http,
    ),
    # ~/.gemini/settings.json or .gemini/settings.json
    "gemini": Client(
        "Gemini CLI",
        "json",
        "Put this in ~/.gemini/settings.json (every project) or .gemini/settings.json in the project, merging the "
        "\"taskweave\" entry into \"mcpServers\".",
        _stdio_entry("mcpServers"),
        _url_entry("mcpServers", "httpUrl", f"${{{TOKEN_VARIABLE}}}", _env_note("Gemini CLI", f"${{{TOKEN_VARIABLE}}}")),
    ),
}


def snippet(client: str, *, store: str | None = None, http: str | None = None) -> Snippet:
    """What registers taskweave in `client`: over stdio, or with `http` the daemon at that URL."""
    chosen = CLIENTS[client]
    notes: list[str] = []
    if http is not None:
        remote = Remote(http, token=bool(os.environ.get(TOKEN_VARIABLE)))
        rendered = chosen.http(remote)
        host = urlsplit(http).hostname or ""
        if not remote.token and host not in ("localhost", "127.0.0.1", "::1"):
            notes.append(
                f"A daemon bound beyond loopback requires its token: set {TOKEN_VARIABLE} and run this again "
                "to get a snippet that sends it."
            )
    else:
        command, args = running_command()
        env = {"TASKWEAVE_STORE": _store_location(store)} if store else {}
        rendered = chosen.stdio(Launch(command, args, env))
        if not store and os.environ.get("TASKWEAVE_STORE"):
            notes.append(
                f"TASKWEAVE_STORE is set here, but {chosen.title} does not pass your shell's environment on: "
                "add --store to put the store into the snippet."
            )
    content = rendered.content
    text = content if isinstance(content, str) else _SERIALIZE[chosen.syntax](content)
    return Snippet(text, [chosen.where, *rendered.notes, *notes])


# --- JSON and TOML --------------------------------------------------------------------------------


def _json(document: Document) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def _toml(document: Document) -> str:
    """A TOML document of tables: a `[dotted.header]` for each table holding values, tables inside it inline."""
    lines: list[str] = []

    def table(path: list[str], body: Mapping[str, object]) -> None:
        if not all(isinstance(value, dict) for value in body.values()):
            if lines:
                lines.append("")
            lines.append(f"[{'.'.join(_toml_key(part) for part in path)}]")
            lines.extend(f"{_toml_key(key)} = {_toml_value(value)}" for key, value in body.items())
            return
        for key, value in body.items():
            assert isinstance(value, dict)
            table([*path, key], value)

    if not all(isinstance(value, dict) for value in document.values()):
        raise TypeError("a snippet's TOML holds tables only")
    table([], document)
    return "\n".join(lines)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_string(value: str) -> str:
    # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(key)} = {_toml_value(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


_SERIALIZE: dict[str, Callable[[Document], str]] = {"json": _json, "toml": _toml}
