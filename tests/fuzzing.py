"""A schema-driven fuzzer of the MCP tools, shared by the short run (`tests/mcp`) and the long one (`tests/soak`).

`arguments(tool, pool)` draws a tool's arguments from its published input
schema: half the calls well-typed, with the ids of the session the fuzzer
prepared (`Pool`), half mixed with hostile values: wrong types, null, empty,
huge and strange strings (NUL, lone surrogates, control characters), very long
lists, deep nesting, unknown fields, integers at and beyond 64 bits.
`fuzzing(store, project)` serves the store in this process, prepares a session
(a parent with subtasks, a claimed task, a completed one with an artifact, two
clients, a message) and yields a `Fuzzer`, whose `call` sends one call through
the official client and then checks that:

1. the server still answers;
2. a failure is `isError` with `{"error": {code, message, hint}}` and a code of
   `taskweave.errors`: never `internal`, and never `store_error` either (the
   store is sound all along, so that is the store refusing what the call carried,
   unchecked); its message is short, without a traceback or a Python repr;
3. a failed call changed nothing: a fingerprint of the store, read directly, is
   the same before and after;
4. the answer can be sent over the wire (stdio and HTTP carry it as UTF-8 JSON),
   when the call could have come over the wire;
5. a successful answer is a JSON object within the answer budget, unless the
   call asked for more.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp_types
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from taskweave.core import limits
from taskweave.core import tool_names as names
from taskweave.core.specialists import BUILTIN
from taskweave.errors import TaskweaveError
from taskweave.server.json_schema import Schema
from taskweave.server.tools import BY_NAME
from taskweave.store import Store, open_store
from taskweave.store.schema import TABLES
from tests.support import call, connect, serving

# Claims that outlive any run and no background sweep: nothing changes the store but the calls themselves.
LEASE_SECONDS = 86_400
SWEEP_SECONDS = 3_600.0
CALL_TIMEOUT_SECONDS = 60.0
MESSAGE_CHARS = 500
ERROR_CHARS = 2_000
# "Every answer stays small (under 4 KB by default)", unless the call asks for more: detail "full", a page size.
ANSWER_BYTES = 4_096
SIZE_OPTIONS = ("limit", "max_chars")


def run_settings(calls: int, *, derandomize: bool) -> settings:
    """A fuzz run of `calls` examples per tool: no deadline (a store call's time varies), no example database
    (an example replays against a store that its run has changed, so it would not reproduce), and none of the
    health checks that large hostile arguments trip."""
    return settings(
        max_examples=calls,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


def _codes(error: type[TaskweaveError]) -> set[str]:
    return {code for sub in error.__subclasses__() for code in {sub.code, *_codes(sub)}}


KNOWN_CODES = frozenset(_codes(TaskweaveError))
# What a message must not carry: a traceback, an exception's name, a Python repr of a value or an object.
LEAKS = re.compile(
    r"Traceback|File \"|\bNone\b|\bTrue\b|\bFalse\b| object at 0x|<class '|\b[A-Z]\w*(?:Error|Exception)\b"
)


class Finding(AssertionError):
    """A call broke one of the fuzzer's properties."""


# -- what the store holds -------------------------------------------------------

# How each table is compared: every column of every row, except the tables that only grow and can hold
# large values, whose rows are compared by what identifies them.
_COMPARED = {
    "artifacts": "SELECT id, session_id, task_id, kind, name, mime_type, size, created_by FROM artifacts ORDER BY id",
    "events": "SELECT session_id, COUNT(*) AS events, MAX(seq) AS last_seq FROM events GROUP BY session_id ORDER BY 1",
    "idempotency_keys": "SELECT session_id, key, tool, request_hash FROM idempotency_keys ORDER BY 1, 2",
}


@dataclass(frozen=True)
class Ids:
    """Ids of each kind of record."""

    sessions: tuple[str, ...]
    clients: tuple[str, ...]
    tasks: tuple[str, ...]
    artifacts: tuple[str, ...]
    messages: tuple[str, ...]


@dataclass(frozen=True)
class Pool:
    """The ids in the store, for well-typed arguments: the prepared session's own, and the others (with ids
    of nothing among them)."""

    project: Path
    own: Ids
    other: Ids
    last_event_seq: int


UNKNOWN = Ids(
    sessions=("s_0000000000000000",), clients=("c_0000000000000000",), tasks=("t_0000000000000000",),
    artifacts=("a_0000000000000000",), messages=("m_0000000000000000",),
)


@dataclass(frozen=True)
class Snapshot:
    fingerprint: dict[str, tuple[int, str]]
    pool: Pool


def snapshot(store: Store, project: Path, session_id: str) -> Snapshot:
    """Every table's row count and a digest of its rows, and the ids they hold, in one read."""
    fingerprint: dict[str, tuple[int, str]] = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    with store.transaction(write=False) as tx:
        for table in TABLES:
            rows[table] = [dict(row) for row in tx.all(_COMPARED.get(table, f"SELECT * FROM {table} ORDER BY 1, 2"))]
    for table, found in rows.items():
        digest = hashlib.sha256(json.dumps(found, sort_keys=True, default=str).encode()).hexdigest()
        fingerprint[table] = (len(found), digest)

    def ids(own: bool) -> Ids:
        def of(table: str, column: str = "session_id") -> tuple[str, ...]:
            return tuple(row["id"] for row in rows[table] if (row[column] == session_id) == own)

        found = Ids(of("sessions", "id"), of("clients"), of("tasks"), of("artifacts"), of("messages"))
        if own:
            return found
        return Ids(*(mine + unknown for mine, unknown in zip(astuple(found), astuple(UNKNOWN), strict=True)))

    last_event_seq = next(row["last_event_seq"] for row in rows["sessions"] if row["id"] == session_id)
    return Snapshot(fingerprint, Pool(project, ids(own=True), ids(own=False), last_event_seq))


# -- arguments from the schemas -------------------------------------------------

SPECIALISTS = tuple(BUILTIN)
INTEGER_RANGES = {
    "lease_seconds": (limits.LEASE_MIN_SECONDS, limits.LEASE_MAX_SECONDS),
    "expected_version": (0, 6),
    "limit": (0, limits.PAGE_SIZE + 1),
    "offset": (0, 50),
    "max_chars": (0, 100_000),
    "dependencies": (0, 5),
}
EDGE_INTEGERS = (
    -1, -(2**31), -(2**63), -(2**63) - 1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(10**30),
)
# Lengths at and just beyond each limit on a caller's text, and one far beyond every limit.
TEXT_LIMITS = (
    limits.NAME, limits.TITLE, limits.IDEMPOTENCY_KEY, limits.SEARCH_TEXT, limits.REASON, limits.DESCRIPTION,
)
HUGE_LENGTHS = (*TEXT_LIMITS, *(n + 1 for n in TEXT_LIMITS), 100_000, limits.ARTIFACT_CONTENT + 1)
STRANGE_TEXTS = (
    "", " ", "\t\n", "\x00", "a\x00b", "\ud800", "x\udfffy", "\u202e", "\x1b[31m", "\r\n", "\\", "'", '"',
    "%s%n", "{}", "null", "None", "0", "-1", ".", "..", "/", "~", "../../etc/passwd", "**", "taskweave://",
    "taskweave://tasks/", "taskweave://nothing/here", "https://example.com/", "\ufeff", "\U0001f600" * 3,
)
GLOBS = ("src/**", "src/*.py", "docs/*.md", "**", "*", "src", "src/api/**", "../outside", "/absolute", "a//b", "[a-")
MIME_TYPES = ("text/markdown", "text/plain", "application/json")
KEYS = ("retry-1", "retry-2", "retry-3")
JSON_SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)
)


# The pool as it is when a value is drawn: strategies are built once, and the store changes with every call.
Live = Callable[[], Pool]


def arguments(tool: str, pool: Live) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments for `tool` from its schema: half the time all well-typed, else with hostile values and fields."""
    schema = BY_NAME[tool].schema
    return _weighted((1, _object(schema, pool, hostile=False)), (1, _object(schema, pool, hostile=True)))


def _weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each as often as its weight says (`st.one_of` would flatten the choices
    of nested `one_of`s into one, and so weigh each strategy by how many choices it holds)."""
    strategies = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(strategies) - 1).flatmap(lambda index: strategies[index])


def _pick(choices: Callable[[Ids], Sequence[str]], pool: Live) -> st.SearchStrategy[str]:
    """One of `choices` as the pool holds them at the time of the draw: mostly the prepared session's."""

    def choose(index: int, own: bool) -> str:
        now = pool()
        options = (own and choices(now.own)) or choices(now.other)
        return options[index % len(options)]

    return st.tuples(st.integers(0, 2**16), _weighted((4, st.just(True)), (1, st.just(False)))).map(
        lambda drawn: choose(*drawn)
    )


def _object(schema: Schema, pool: Live, *, hostile: bool) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Schema] = schema["properties"]
    required = set(schema.get("required", ()))
    values = {name: _value(item, name, pool, hostile=hostile) for name, item in properties.items()}
    fields = st.fixed_dictionaries(
        {name: values[name] for name in properties if name in required},
        optional={name: values[name] for name in properties if name not in required},
    )
    if not hostile:
        return fields
    with_unknown = st.tuples(fields, UNKNOWN_FIELDS).map(lambda pair: {**pair[1], **pair[0]})
    missing_required = st.fixed_dictionaries({}, optional=values)
    return _weighted((2, fields), (1, with_unknown), (1, missing_required))


def _value(schema: Schema, name: str, pool: Live, *, hostile: bool) -> st.SearchStrategy[Any]:
    """A well-typed value; for a hostile call, a hostile one one time in three."""
    good = _well_typed(schema, name, pool, hostile=hostile)
    return _weighted((2, good), (1, _hostile(schema, name, pool))) if hostile else good


def _well_typed(schema: Schema, name: str, pool: Live, *, hostile: bool = False) -> st.SearchStrategy[Any]:
    """A value of the schema's type for the field `name` (whose arrays and objects may hold hostile values)."""
    kind = schema.get("type")
    if "anyOf" in schema:
        return st.one_of(*(_well_typed(option, name, pool, hostile=hostile) for option in schema["anyOf"]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "string":
        return _text(name, pool)
    if kind == "integer":
        if name == "since":
            return st.integers(-3, 3).map(lambda offset: max(0, pool().last_event_seq + offset))
        return st.integers(*INTEGER_RANGES.get(name, (0, 10)))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_value(schema["items"], name, pool, hostile=hostile), max_size=4)
    if kind == "object":
        return _object(schema, pool, hostile=hostile)
    raise ValueError(f"the fuzzer does not know the schema {schema}")


def _directories(project: Path) -> tuple[str, ...]:
    return str(project), str(project / "src"), str(project / "missing"), str(project.parent), "src", "."


def _uris(ids: Ids) -> tuple[str, ...]:
    return (
        *(f"taskweave://tasks/{task}" for task in ids.tasks[-5:]),
        *(f"taskweave://artifacts/{artifact}" for artifact in ids.artifacts[-5:]),
        *(f"taskweave://sessions/{session}/status" for session in ids.sessions[-3:]),
        *(f"taskweave://messages/{message}" for message in ids.messages[-3:]),
    )


# The ids a field holds, by its name (an array's items by the array's name).
IDS: dict[str, Callable[[Ids], Sequence[str]]] = {
    "task_id": lambda ids: ids.tasks,
    "parent_task_id": lambda ids: ids.tasks,
    "dependencies": lambda ids: ids.tasks,
    "session_id": lambda ids: ids.sessions,
    "client_id": lambda ids: ids.clients,
    "artifact_id": lambda ids: ids.artifacts,
    "to": lambda ids: (*ids.clients, *SPECIALISTS, "all"),
    "uri": _uris,
}
CHOICES = {"paths": GLOBS, "mime_type": MIME_TYPES}


def _text(name: str, pool: Live) -> st.SearchStrategy[str]:
    """A string of the kind the field `name` holds: an id, a path, a role, some text."""
    if name in IDS:
        return _pick(IDS[name], pool)
    if name in CHOICES:
        return st.sampled_from(CHOICES[name])
    if name == "working_directory":
        return st.integers(0, 5).map(lambda index: _directories(pool().project)[index])
    if name == "specialist":
        return _weighted((3, st.sampled_from(SPECIALISTS)), (1, st.text(min_size=1, max_size=12)))
    if name == "idempotency_key":
        # Now and then a key used before, most likely for another request.
        return _weighted((3, st.uuids().map(str)), (1, st.sampled_from(KEYS)))
    return st.text(min_size=1, max_size=40)


def _hostile(schema: Schema, name: str, pool: Live) -> st.SearchStrategy[Any]:
    """null, a value of another type, or a value of the right type that the field should refuse or survive."""
    if "anyOf" in schema:
        return st.one_of(*(_hostile(option, name, pool) for option in schema["anyOf"]))
    kind = schema.get("type")
    options: list[st.SearchStrategy[Any]] = [st.none(), JSON_VALUES.filter(lambda value: not _is_kind(value, kind))]
    if kind == "string":
        options.append(_strange_text(name, pool))
    elif kind == "integer":
        options.append(st.sampled_from(EDGE_INTEGERS))
    elif kind == "array":
        item = _well_typed(schema["items"], name, pool)
        options.append(st.tuples(item, st.sampled_from((101, 1_000))).map(lambda pair: [pair[0]] * pair[1]))
        options.append(st.lists(_hostile(schema["items"], name, pool), min_size=1, max_size=3))
    elif kind == "object":
        options.append(_object(schema, pool, hostile=True))
    return st.one_of(*options)


def _strange_text(name: str, pool: Live) -> st.SearchStrategy[str]:
    good = _text(name, pool)
    return st.one_of(
        st.sampled_from(STRANGE_TEXTS),
        st.tuples(st.sampled_from(HUGE_LENGTHS), st.sampled_from(("x", "é", " "))).map(lambda pair: pair[1] * pair[0]),
        good.map(lambda text: text + "\x00"),
        good.map(lambda text: f" {text.upper()} "),
        st.text(alphabet=st.characters(categories=("Cc", "Cs", "Cf", "Zs", "Zl")), min_size=1, max_size=12),
    )


def _deeply_nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


# Any JSON value, small or nested deep (the SDK's client refuses to send JSON nested deeper than about 250 levels).
JSON_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.recursive(
        JSON_SCALARS,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
        max_leaves=8,
    ),
    st.integers(50, 200).map(_deeply_nested),
)
UNKNOWN_FIELDS = st.dictionaries(
    st.one_of(st.sampled_from(("extra", "taskId", "__proto__", "", "\x00", "session-id")), st.text(max_size=8)),
    JSON_VALUES,
    min_size=1,
    max_size=2,
)


def _is_kind(value: Any, kind: str | None) -> bool:
    """Whether `value` is of the JSON type `kind` as the server's schema check sees it."""
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    checks: dict[str, type] = {"string": str, "boolean": bool, "array": list, "object": dict}
    return kind is not None and kind in checks and isinstance(value, checks[kind])


# -- calling and checking ---------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """The session the fuzzer works in, and its two clients: the fuzzer's connection and another agent's."""

    session_id: str
    client_id: str
    other_client_id: str


@dataclass
class Tally:
    """What a run did: the outcomes of its calls per tool (`ok` or an error code)."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)

    def summary(self, title: str) -> str:
        tools = sorted({tool for tool, _ in self.outcomes})
        lines = [f"{title}: {sum(self.outcomes.values())} calls"]
        for tool in tools:
            counts = {outcome: n for (name, outcome), n in sorted(self.outcomes.items()) if name == tool}
            shown = ", ".join(f"{outcome} {n}" for outcome, n in counts.items())
            lines.append(f"  {tool.removeprefix('orchestrator_')}: {sum(counts.values())} ({shown})")
        codes: Counter[str] = Counter()
        for (_, outcome), n in self.outcomes.items():
            codes[outcome] += n
        lines.append("  outcomes: " + ", ".join(f"{outcome} {n}" for outcome, n in sorted(codes.items())))
        return "\n".join(lines)


# Calls after which the fuzzer's connection may be bound elsewhere (another session, another client), or its
# session ended: the fuzzer binds it back to its own, so that the calls after it keep reaching the prepared session.
REBINDING = frozenset({names.INITIALIZE_SESSION, names.RESUME_SESSION, names.END_SESSION})


class Fuzzer:
    def __init__(self, portal: BlockingPortal, client: Client, store: Store, project: Path, prepared: Prepared) -> None:
        self.portal = portal
        self.client = client
        self.store = store
        self.prepared = prepared
        self.project = project
        self.tally = Tally()
        self.last = snapshot(store, project, prepared.session_id)
        self._arguments: dict[str, st.SearchStrategy[dict[str, Any]]] = {}

    @property
    def pool(self) -> Pool:
        return self.last.pool

    def arguments(self, tool: str) -> st.SearchStrategy[dict[str, Any]]:
        """`arguments(tool, ...)` with the ids in the store at each draw (built once: building is slow)."""
        if tool not in self._arguments:
            self._arguments[tool] = arguments(tool, lambda: self.pool)
        return self._arguments[tool]

    def call(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """One call, checked as the module's docstring says; its result."""
        where = f"{tool}({shorten(arguments)})"
        result = self._send(tool, arguments, where)
        self._check_alive(where)
        if _sendable(arguments):
            try:
                result.model_dump_json(by_alias=True, exclude_unset=True).encode()
            except Exception as error:
                raise Finding(f"{where}: the answer cannot be sent over the wire: {error}") from None
        body = _body(result, where)
        if result.is_error:
            check_error(body, arguments, where)
        else:
            check_answer(body, arguments, where)
        if result.is_error:
            code = body["error"]["code"]
            self.tally.outcomes[tool, code] += 1
            after = snapshot(self.store, self.project, self.prepared.session_id)
            changed = [table for table in TABLES if after.fingerprint[table] != self.last.fingerprint[table]]
            if changed:
                raise Finding(f"{where} failed ({code}) but changed the store's {', '.join(changed)}")
            return result
        self.tally.outcomes[tool, "ok"] += 1
        if tool in REBINDING:
            self._rebind()
        self.last = snapshot(self.store, self.project, self.prepared.session_id)
        return result

    def _send(self, tool: str, arguments: dict[str, Any], where: str) -> mcp_types.CallToolResult:
        async def send() -> mcp_types.CallToolResult:
            with anyio.fail_after(CALL_TIMEOUT_SECONDS):
                return await self.client.call_tool(tool, arguments)

        try:
            return self.portal.call(send)
        except Exception as error:
            raise Finding(f"{where}: the call got no tool result: {type(error).__name__}: {error}") from None

    def _check_alive(self, where: str) -> None:
        async def list_tools() -> mcp_types.ListToolsResult:
            with anyio.fail_after(CALL_TIMEOUT_SECONDS):
                return await self.client.list_tools()

        try:
            listed = self.portal.call(list_tools)
        except Exception as error:
            raise Finding(f"after {where} the server no longer answers: {type(error).__name__}: {error}") from None
        if len(listed.tools) != len(BY_NAME):
            raise Finding(f"after {where} tools/list lists {len(listed.tools)} tools")

    def _rebind(self) -> None:
        session_id, client_id = self.prepared.session_id, self.prepared.client_id
        self.portal.call(lambda: call(self.client, names.RESUME_SESSION, session_id=session_id, client_id=client_id))


def check_answer(body: Any, arguments: Mapping[str, Any], where: str) -> None:
    """A successful answer is a JSON object within the answer budget, unless the call asked for more."""
    if not isinstance(body, dict) or "error" in body:
        raise Finding(f"{where}: a successful answer must be a JSON object without 'error': {shorten(body)}")
    if arguments.get("detail") != "full" and not any(arguments.get(option) is not None for option in SIZE_OPTIONS):
        size = answer_bytes(body)
        if size > ANSWER_BYTES:
            raise Finding(f"{where}: the answer is {size:,} bytes of JSON, over the budget of {ANSWER_BYTES:,}")


def answer_bytes(body: Mapping[str, Any]) -> int:
    """The size of a successful answer as it goes over the wire, but its messages (they come on top, cut short)."""
    answer = {name: value for name, value in body.items() if name != "messages"}
    return len(json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode())


def check_error(body: Any, arguments: Mapping[str, Any], where: str) -> None:
    """A failure is a clear one (property 2 of the module's docstring)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(body) != {"error"}:
        raise Finding(f"{where}: a failure must be {{\"error\": {{...}}}}, not {shorten(body)}")
    for part in ("code", "message", "hint"):
        if not isinstance(error.get(part), str) or not error[part]:
            raise Finding(f"{where}: the error has no {part}: {shorten(error)}")
    if error["code"] not in KNOWN_CODES:
        known = ", ".join(sorted(KNOWN_CODES))
        raise Finding(f"{where}: error code {error['code']!r} (known: {known}): {shorten(error)}")
    if error["code"] == "store_error":
        raise Finding(f"{where}: the (healthy) store refused what the call carried, unchecked: {shorten(error)}")
    size = len(json.dumps(error, ensure_ascii=False))
    if size > ERROR_CHARS:
        raise Finding(f"{where}: the error is {size:,} characters long: {shorten(error)}")
    sent = json.dumps(arguments, ensure_ascii=False)
    for part in ("message", "hint"):
        text = error[part]
        if len(text) > MESSAGE_CHARS:
            raise Finding(f"{where}: the error's {part} is {len(text):,} characters long: {shorten(text)}")
        leaks = [match.group() for match in LEAKS.finditer(text) if match.group() not in sent]
        if leaks:
            raise Finding(f"{where}: the error's {part} leaks {leaks[0]!r}: {text}")


def _body(result: mcp_types.CallToolResult, where: str) -> Any:
    content = result.content
    if len(content) != 1 or not isinstance(content[0], mcp_types.TextContent):
        raise Finding(f"{where}: the answer must be one text item, not {shorten(content)}")
    try:
        body = json.loads(content[0].text)
    except ValueError:
        raise Finding(f"{where}: the answer is not JSON: {shorten(content[0].text)}") from None
    if result.structured_content != body:
        raise Finding(f"{where}: structuredContent differs from the text: {shorten(result.structured_content)}")
    return body


def _sendable(arguments: Any) -> bool:
    """Whether a real client could send `arguments`: JSON carries no lone surrogate (the SDK refuses one), so
    an answer that echoes one, which could not be sent either, is no finding."""
    try:
        json.dumps(arguments, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def shorten(value: Any, chars: int = 60, items: int = 4) -> str:
    """`value` as JSON, its long strings and lists cut, for a finding's message."""

    def cut(item: Any, depth: int = 0) -> Any:
        if depth > 4:
            return "..."
        if isinstance(item, str):
            return item if len(item) <= chars else f"{item[:chars]}...({len(item):,} chars)"
        if isinstance(item, list):
            head = [cut(entry, depth + 1) for entry in item[:items]]
            return head + [f"...({len(item):,} items)"] if len(item) > items else head
        if isinstance(item, dict):
            return {str(key)[:chars]: cut(entry, depth + 1) for key, entry in item.items()}
        if isinstance(item, mcp_types.TextContent):
            return cut(item.text, depth)
        return item

    return json.dumps(cut(value), ensure_ascii=True, default=repr)


# -- the prepared session ---------------------------------------------------------


async def prepare(agent: Client, other: Client) -> Prepared:
    """A parent with subtasks, a completed task with an artifact, one claim each for two clients, a message."""
    init = await call(agent, names.INITIALIZE_SESSION)
    plan = await call(
        agent, names.PLAN_TASK, title="Ship the feature", description="The whole feature.",
        subtasks=[
            {"title": "Design it", "specialist": "architect"},
            {"title": "Build it", "dependencies": [0]},
            {"title": "Test it", "specialist": "tester", "dependencies": [1]},
            {"title": "Document it", "specialist": "documenter"},
        ],
    )
    design, _, _, document = (subtask["task_id"] for subtask in plan["subtasks"])
    spike = (await call(agent, names.PLAN_TASK, title="Spike", description="Try the idea."))["task_id"]
    await call(agent, names.EXECUTE_TASK, task_id=spike)
    await call(
        agent, names.COMPLETE_TASK, task_id=spike, summary="The idea works.", detailed_work="All the details.",
        artifacts=[{"name": "notes.md", "content": "# Notes", "mime_type": "text/markdown"}],
    )
    await call(agent, names.EXECUTE_TASK, task_id=design, paths=["src/**"])
    joined = await call(other, names.INITIALIZE_SESSION)
    await call(other, names.EXECUTE_TASK, task_id=document, paths=["docs/**"])
    await call(other, names.SEND_MESSAGE, to=init["client_id"], text="Design first, please.", task_id=design)
    return Prepared(init["session_id"], init["client_id"], joined["client_id"])


def fuzz_tool(fuzzer: Fuzzer, tool: str, run: settings) -> None:
    """`run.max_examples` calls of `tool` (fewer when hypothesis runs out of new arguments), each checked."""

    @run
    @given(data=st.data())
    def one_call(data: st.DataObject) -> None:
        fuzzer.call(tool, data.draw(fuzzer.arguments(tool), label=tool))

    one_call()


@contextmanager
def fuzzing(location: str, project: Path) -> Iterator[Fuzzer]:
    """A server on `location` in this process, with its event loop in a thread of its own, and the prepared session.

    The fuzzer's calls run on that loop through a blocking portal, so that hypothesis drives them from plain
    functions (and state machines) while the server and its connections live across all of them.
    """
    with ExitStack() as stack:
        portal = stack.enter_context(start_blocking_portal())
        server = serving(location, lease_seconds=LEASE_SECONDS, sweep_seconds=SWEEP_SECONDS)
        app = stack.enter_context(portal.wrap_async_context_manager(server))
        agent = stack.enter_context(portal.wrap_async_context_manager(connect(app, name="fuzzer")))
        other = stack.enter_context(portal.wrap_async_context_manager(connect(app, name="other-agent")))
        prepared = portal.call(prepare, agent, other)
        store = stack.enter_context(closing(open_store(location)))
        # A failure of the run is raised once the server and its connections have closed: thrown into their
        # task groups instead, it would come out wrapped in exception groups.
        try:
            yield Fuzzer(portal, agent, store, project, prepared)
        except Exception as error:
            failure = error
        else:
            return
    raise failure
