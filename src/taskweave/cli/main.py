"""The `taskweave` command line.

Each command imports what it needs inside its own function: `taskweave detect`
or `taskweave status` never pay for importing the MCP stack, and `taskweave
serve` pays only for what serving needs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import closing
from typing import TypeVar

from taskweave import __version__
from taskweave.errors import TaskweaveError

Shown = TypeVar("Shown")


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _show(data: Shown, as_json: bool, render: Callable[[Shown], str]) -> None:
    """`data` as JSON, or rendered for a terminal."""
    if as_json:
        _print_json(data)
    else:
        print(render(data))


def cmd_serve(args: argparse.Namespace) -> int:
    from taskweave.server.run import serve

    serve(store=args.store, http=args.http, host=args.host, port=args.port)
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from taskweave.dashboard.serve import serve_dashboard

    serve_dashboard(store=args.store, host=args.host, port=args.port)
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
    from taskweave.cli.views import render_status
    from taskweave.core.orchestrator import Orchestrator
    from taskweave.core.sessions import no_active_session
    from taskweave.core.tool_names import INITIALIZE_SESSION
    from taskweave.workspace import detect_workspace

    with Orchestrator.open(args.store, read_only=True) as orchestrator:
        session_id = args.session
        if session_id is None:
            workspace = detect_workspace(args.dir)
            session_id = orchestrator.sessions.active_session_id(workspace)
            if session_id is None:
                raise no_active_session(
                    workspace.root,
                    hint=f"Start one from your agent ({INITIALIZE_SESSION}); `taskweave sessions --all` lists every session.",
                )
        status = orchestrator.sessions.status(session_id, detail="full")
    _show(status, args.json, render_status)
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from taskweave.cli.views import render_sessions
    from taskweave.core.orchestrator import Orchestrator
    from taskweave.workspace import detect_workspace

    with Orchestrator.open(args.store, read_only=True) as orchestrator:
        sessions = orchestrator.sessions.listing(None if args.all else detect_workspace(args.dir))
    _show(sessions, args.json, render_sessions)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from taskweave.store import open_store

    with closing(open_store(args.store, read_only=True)) as store:
        taken = store.backup(args.path)
    print(f"Backed up {store.url} to {taken['path']} ({taken['bytes']:,} bytes).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from taskweave.store import open_store

    with closing(open_store(args.store)) as store:
        restored = store.restore(args.path, force=args.force)
    print(
        f"Restored {store.url} from {restored['restored_from']} (schema version {restored['schema_version']}).\n"
        f"Its previous content is saved in {restored['previous_content_saved_to']}."
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from taskweave.store import open_store
    from taskweave.store.schema import SCHEMA_VERSION, tables_at

    with closing(open_store(args.store, read_only=True)) as store:
        problems = store.check()
        with store.transaction(write=False) as tx:
            counts = tx.row_counts(tables_at(store.schema_version))
        described = store.describe()
    older = store.schema_version < SCHEMA_VERSION
    if args.json:
        _print_json({"store": described, "ok": not problems, "problems": problems, "counts": counts})
    elif problems:
        print(f"The store {store.url} has {len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        print("  hint: restore a backup with `taskweave restore PATH` (backups: `taskweave backup`).")
    else:
        checked = (
            f"integrity checks passed; taskweave upgrades it to version {SCHEMA_VERSION}, after a backup, when a "
            "server starts on it"
            if older
            else "integrity and consistency checks passed"
        )
        print(
            f"The store {store.url} is sound: schema version {described['schema_version']}, {checked}; "
            f"{counts['sessions']} session(s), {counts['tasks']} task(s), {counts['events']} event(s)."
        )
    return 1 if problems else 0


def cmd_migrate_store(args: argparse.Namespace) -> int:
    from taskweave.store.transfer import copy_location

    report = copy_location(args.source, args.destination, force=args.force)
    print(f"Copied {report.source} to {report.destination}; row counts verified:")
    for table, count in report.counts.items():
        print(f"  {table:<18} {count:>10,}")
    if report.nul_replaced:
        print(f"{report.nul_replaced:,} NUL character(s) in the source's text were copied as U+FFFD.")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from taskweave.cli.client_config import snippet

    made = snippet(args.client, store=args.store, http=args.http)
    for note in made.notes:
        print(note, file=sys.stderr)
    print(made.text)
    return 0


def cmd_prime(args: argparse.Namespace) -> int:
    from taskweave.cli.prime import hook_output, one_line, prime

    try:
        text = prime(args.dir, args.store)
    except Exception as error:  # a session-start hook must never fail the agent's start: one line says what happened
        text = f"taskweave: prime failed ({type(error).__name__}: {one_line(str(error))}).\n"
    sys.stdout.write(hook_output(text, args.hook))
    return 0


def cmd_hooks(args: argparse.Namespace) -> int:
    from taskweave.cli import hooks

    try:
        spec = hooks.client_spec(args.client)
    except hooks.Unsupported as unsupported:
        print(f"taskweave: {unsupported.message}", file=sys.stderr)
        return 2
    command = hooks.prime_command(args.client, args.store)
    path = hooks.settings_path(spec, args.dir)
    if args.install or args.uninstall:
        current = hooks.read_settings(path) or {}
        changed = hooks.install(spec, current, command) if args.install else hooks.uninstall(spec, current)
        if changed == current:
            state = "already has" if args.install else "has no"
            print(f"{path} {state} the taskweave hook; nothing changed.")
            return 0
        hooks.write_settings(path, changed)
        if args.uninstall:
            print(f"Removed the taskweave hook from {path}.")
            return 0
        print(f"Added the taskweave hook to {path} ({spec.title} {spec.event}: {command}).")
        for note in spec.notes:
            print(note)
        return 0
    print(f"Merge this into {path} ({spec.title}), or run `taskweave hooks {args.client} --install` to do it.", file=sys.stderr)
    for note in spec.notes:
        print(note, file=sys.stderr)
    _print_json(spec.fragment(command))
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from taskweave.server.access import new_entry

    token, entry = new_entry(args.name, args.workspace)
    print(entry, end="")
    print(
        f"# Append the entry above to the daemon's tokens file (TASKWEAVE_TOKENS_FILE); give {args.name} this "
        f"token, which is shown only now:\n{token}",
        file=sys.stderr,
    )
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

    dashboard = commands.add_parser("dashboard", help="serve the live dashboard alone (no MCP), for people watching their agents")
    dashboard.add_argument("--store", help=store_help)
    dashboard.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1; any other needs TASKWEAVE_TOKEN)")
    dashboard.add_argument("--port", type=int, default=8766, help="port (default: 8766)")
    dashboard.set_defaults(func=cmd_dashboard)

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

    backup = commands.add_parser("backup", help="take a consistent snapshot of the store while it is in use")
    backup.add_argument("path", nargs="?", help="file to write (default: a new file in the store's backups/ folder)")
    backup.add_argument("--store", help=store_help)
    backup.set_defaults(func=cmd_backup)

    restore = commands.add_parser("restore", help="replace the store's content with a snapshot")
    restore.add_argument("path", help="a file `taskweave backup` wrote")
    restore.add_argument("--force", action="store_true", help="restore even while servers are using the store")
    restore.add_argument("--store", help=store_help)
    restore.set_defaults(func=cmd_restore)

    check = commands.add_parser("check", help="verify the store's integrity, schema and consistency")
    check.add_argument("--store", help=store_help)
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(func=cmd_check)

    migrate = commands.add_parser("migrate-store", help="copy a whole store into another (SQLite <-> PostgreSQL)")
    migrate.add_argument("source", metavar="SRC", help="the store to copy: a SQLite file path or a postgresql:// URL")
    migrate.add_argument("destination", metavar="DST", help="the store to fill: a SQLite file path or a postgresql:// URL")
    migrate.add_argument("--force", action="store_true", help="empty a non-empty destination first")
    migrate.set_defaults(func=cmd_migrate_store)

    from taskweave.cli.client_config import CLIENTS, http_url

    token = commands.add_parser("token", help="make a bearer token for one person or agent group of a team daemon")
    token.add_argument("name", help="who the token is for; the event log names them")
    token.add_argument(
        "--workspace", action="append", default=[], metavar="DIR",
        help="a workspace root the token may use (repeat it; default: every workspace)",
    )
    token.set_defaults(func=cmd_token)

    config = commands.add_parser(
        "config",
        help="print what registers taskweave in an MCP client (the file content or command on stdout, where it goes on stderr)",
    )
    config.add_argument("client", metavar="CLIENT", choices=list(CLIENTS), help=f"one of: {', '.join(CLIENTS)}")
    transport = config.add_mutually_exclusive_group()
    transport.add_argument("--store", help="store for the client's stdio server (default: none, the user data dir)")
    transport.add_argument(
        "--http", metavar="URL", type=http_url,
        help="connect the client to the daemon at URL (`taskweave serve --http`) instead of starting a server",
    )
    config.set_defaults(func=cmd_config)

    from taskweave.cli.hooks import CHOICES as HOOK_CHOICES
    from taskweave.cli.hooks import CLIENTS as HOOK_CLIENTS

    prime = commands.add_parser(
        "prime",
        help="print a short brief of the workspace's session for an agent's context (what session-start hooks run)",
    )
    prime.add_argument("dir", nargs="?", help="a directory inside the workspace (default: the current directory)")
    prime.add_argument("--store", help=store_help)
    prime.add_argument(
        "--hook", metavar="CLIENT", choices=list(HOOK_CLIENTS),
        help=f"print it as CLIENT's session-start hook answers ({', '.join(HOOK_CLIENTS)}); default: plain text",
    )
    prime.set_defaults(func=cmd_prime)

    hooks = commands.add_parser(
        "hooks",
        help="print, or merge into the project's settings, the session-start hook that runs `taskweave prime`",
    )
    hooks.add_argument("client", metavar="CLIENT", choices=HOOK_CHOICES, help=f"one of: {', '.join(HOOK_CHOICES)}")
    action = hooks.add_mutually_exclusive_group()
    action.add_argument("--install", action="store_true", help="merge the hook into the project's settings file")
    action.add_argument("--uninstall", action="store_true", help="remove taskweave's hook from it, and nothing else")
    hooks.add_argument("--dir", help="a directory inside the project (default: the current directory)")
    hooks.add_argument(
        "--store", help="the store the hook's `prime` reads: the one the MCP server uses (default: the default store)"
    )
    hooks.set_defaults(func=cmd_hooks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.func(args)
    except TaskweaveError as error:
        print(f"taskweave: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"  hint: {error.hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
