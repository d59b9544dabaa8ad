"""Who a bearer token stands for, and which workspaces that principal may use.

One `TASKWEAVE_TOKEN` is the simple case: whoever holds it uses every workspace.
A team daemon gives each person or agent group a token of its own in a tokens
file (`TASKWEAVE_TOKENS_FILE`), with the workspaces it may use; a token never
reads or changes another workspace's sessions, and the event log names the
principal of every client. The file keeps each token's SHA-256, not the token:

    [[tokens]]
    name = "alice"
    sha256 = "9f86d08..."          # taskweave token alice --workspace /srv/api prints a new entry
    workspaces = ["/srv/api", "/srv/web"]   # leave out for every workspace
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from taskweave.errors import InvalidInput, TaskweaveError

TOKEN_BYTES = 32


class Forbidden(TaskweaveError):
    """The caller's token does not give it that workspace."""

    code = "forbidden"


@dataclass(frozen=True)
class Principal:
    """A person or agent group, as its token names it; `workspaces` None means every workspace."""

    name: str
    workspaces: tuple[str, ...] | None = None

    def may_use(self, root: str) -> bool:
        if self.workspaces is None:
            return True
        return any(root == allowed or root.startswith(allowed.rstrip(os.sep) + os.sep) for allowed in self.workspaces)

    def check(self, root: str) -> None:
        if not self.may_use(root):
            raise Forbidden(
                f"The token of {self.name} does not give access to the workspace {root}.",
                hint="Work in one of your workspaces, or ask whoever runs the daemon to add this one to your token.",
            )


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """The tokens a daemon accepts, by their SHA-256."""

    def __init__(self, principals: dict[str, Principal]) -> None:
        self._by_digest = principals

    @classmethod
    def single(cls, token: str) -> Tokens:
        return cls({digest(token): Principal("token holder")})

    @classmethod
    def load(cls, path: str) -> Tokens:
        """The tokens file at `path` (see the module's docstring), or a refusal saying what to fix."""
        import tomllib

        where = Path(path).expanduser()
        try:
            table = tomllib.loads(where.read_text(encoding="utf-8"))
        except OSError as error:
            raise InvalidInput(f"The tokens file {where} cannot be read: {error.strerror}.", hint=_FILE_HINT) from error
        except tomllib.TOMLDecodeError as error:
            raise InvalidInput(f"The tokens file {where} is not valid TOML ({error}).", hint=_FILE_HINT) from error
        principals: dict[str, Principal] = {}
        for index, entry in enumerate(table.get("tokens", [])):
            name, sha256, workspaces = entry.get("name"), entry.get("sha256"), entry.get("workspaces")
            if not isinstance(name, str) or not name.strip() or not isinstance(sha256, str) or len(sha256) != 64:
                raise InvalidInput(f"Entry {index + 1} of {where} needs a name and a sha256.", hint=_FILE_HINT)
            if workspaces is not None and not (
                isinstance(workspaces, list) and all(isinstance(w, str) and os.path.isabs(w) for w in workspaces)
            ):
                raise InvalidInput(f"Entry {name!r} of {where}: workspaces must be absolute paths.", hint=_FILE_HINT)
            roots = None if workspaces is None else tuple(os.path.realpath(w) for w in workspaces)
            principals[sha256.lower()] = Principal(name.strip(), roots)
        if not principals:
            raise InvalidInput(f"The tokens file {where} holds no token.", hint=_FILE_HINT)
        return cls(principals)

    def principal(self, presented: str) -> Principal | None:
        """Who `presented` stands for; compared in constant time with every known token."""
        given = digest(presented)
        found = None
        for known, principal in self._by_digest.items():
            if hmac.compare_digest(given, known):
                found = principal
        return found


def new_entry(name: str, workspaces: list[str]) -> tuple[str, str]:
    """A new token and the tokens-file entry that accepts it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    lines = ["[[tokens]]", f"name = {json.dumps(name)}", f'sha256 = "{digest(token)}"']
    if workspaces:
        roots = ", ".join(json.dumps(os.path.realpath(w)) for w in workspaces)
        lines.append(f"workspaces = [{roots}]")
    return token, "\n".join(lines) + "\n"


_FILE_HINT = "Each [[tokens]] entry has name, sha256 and optionally workspaces; `taskweave token NAME` prints one."
