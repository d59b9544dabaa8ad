"""The `taskweave` command line.

Each command imports what it needs inside its own function: `taskweave detect`
or `taskweave status` never pay for importing the MCP stack, and `taskweave
serve` pays only for what serving needs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from taskweave import __version__
from taskweave.errors import TaskweaveError


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def cmd_serve(args: argparse.Namespace) -> int:
    from taskweave.server.run import serve

    serve(store=args.store, http=args.http, host=args.host, port=args.port)
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from taskweave.workspace import detect_workspace

    detection = detect_workspace(args.dir)
    if args.json:
        _print_json(detection.to_dict())
    else:
        print(detection.explain())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from taskweave.cli_views import render_status
    from taskweave.core.service import Orchestrator
    from taskweave.errors import NotFound
    from taskweave.workspace import detect_workspace

    with Orchestrator.open(args.store) as orchestrator:
        session_id = args.session
        if session_id is None:
            workspace = detect_workspace(args.dir)
            session_id = orchestrator.active_session_id(workspace)
            if session_id is None:
                raise NotFound(
                    f"No active session in the workspace {workspace.root}.",
                    hint="Start one from your agent (orchestrator_initialize_session); `taskweave sessions --all` lists every session.",
                )
        status = orchestrator.get_status(session_id)
    if args.json:
        _print_json(status)
    else:
        print(render_status(status))
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from taskweave.cli_views import render_sessions
    from taskweave.core.service import Orchestrator
    from taskweave.workspace import detect_workspace

    with Orchestrator.open(args.store) as orchestrator:
        sessions = orchestrator.list_sessions(None if args.all else detect_workspace(args.dir))
    if args.json:
        _print_json(sessions)
    else:
        print(render_sessions(sessions))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from taskweave.client_config import snippet

    print(snippet(args.client, store=args.store))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskweave",
        description="A durable orchestration session per project for AI coding agents, served over MCP.",
    )
    parser.add_argument("--version", action="version", version=f"taskweave {__version__}")
    store_help = "store: a SQLite file path or a postgresql:// URL (default: $TASKWEAVE_STORE, else the user data dir)"
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve MCP over stdio (default) or Streamable HTTP")
    serve.add_argument("--store", help=store_help)
    serve.add_argument("--http", action="store_true", help="serve Streamable HTTP instead of stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="HTTP port (default: 8765)")
    serve.set_defaults(func=cmd_serve)

    detect = commands.add_parser("detect", help="show the workspace detected for a directory, and why")
    detect.add_argument("dir", nargs="?", help="directory to start from (default: the current directory)")
    detect.add_argument("--json", action="store_true", help="print one JSON object")
    detect.set_defaults(func=cmd_detect)

    status = commands.add_parser("status", help="show the active session of a workspace")
    status.add_argument("dir", nargs="?", help="a directory inside the workspace (default: the current directory)")
    status.add_argument("--session", help="a session id instead of the workspace's active session")
    status.add_argument("--store", help=store_help)
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=cmd_status)

    sessions = commands.add_parser("sessions", help="list the sessions of a workspace (or all)")
    sessions.add_argument("dir", nargs="?", help="a directory inside the workspace (default: the current directory)")
    sessions.add_argument("--all", action="store_true", help="list the sessions of every workspace")
    sessions.add_argument("--store", help=store_help)
    sessions.add_argument("--json", action="store_true", help="print JSON")
    sessions.set_defaults(func=cmd_sessions)

    config = commands.add_parser("config", help="print the snippet that registers taskweave in an MCP client")
    config.add_argument("client", choices=["claude-code", "claude-desktop", "cursor", "vscode"])
    config.add_argument("--store", help="store to put into the snippet (default: none, the user data dir)")
    config.set_defaults(func=cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.func(args)
    except TaskweaveError as error:
        print(f"taskweave: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"  hint: {error.hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
