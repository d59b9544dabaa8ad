"""Registration snippets for MCP clients (`taskweave config CLIENT`).

Clients start stdio servers with a minimal environment, so the snippet names
the executable by absolute path rather than trusting the client's PATH.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from typing import Any


def _command() -> tuple[str, list[str]]:
    executable = shutil.which("taskweave")
    if executable:
        return executable, ["serve"]
    return sys.executable, ["-m", "taskweave", "serve"]


def snippet(client: str, *, store: str | None = None) -> str:
    command, args = _command()
    env = {"TASKWEAVE_STORE": store} if store else {}
    entry: dict[str, Any] = {"command": command, "args": args, **({"env": env} if env else {})}
    if client == "claude-code":
        env_flags = "".join(f" -e {key}={shlex.quote(value)}" for key, value in env.items())
        return (
            "# Run in your project (add --scope user to register it for every project):\n"
            f"claude mcp add taskweave{env_flags} -- {shlex.join([command, *args])}"
        )
    if client == "vscode":
        config = {"servers": {"taskweave": {"type": "stdio", **entry}}}
        where = "// .vscode/mcp.json in your project (or the user-level mcp.json)"
    elif client == "cursor":
        config = {"mcpServers": {"taskweave": entry}}
        where = "// ~/.cursor/mcp.json (all projects) or .cursor/mcp.json (this project)"
    else:
        config = {"mcpServers": {"taskweave": entry}}
        where = "// claude_desktop_config.json (Settings > Developer > Edit Config); merge into mcpServers"
    return f"{where}\n{json.dumps(config, indent=2)}"
