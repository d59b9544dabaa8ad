"""The result of workspace detection, as the rest of taskweave consumes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Detection:
    """A detected workspace: where it is, what it is, and why detection decided so."""

    root: str
    identity: str
    types: list[str]
    vcs: str | None
    nearest_project: str | None
    start: str
    source: str
    config: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable view (the `orchestrator_detect_workspace` result)."""
        return {
            "root": self.root,
            "types": list(self.types),
            "identity": self.identity,
            "vcs": self.vcs,
            "nearest_project": self.nearest_project,
            "start": self.start,
            "source": self.source,
            "evidence": self.evidence,
        }

    def explain(self) -> str:
        """A short human explanation of the detection."""
        evidence = self.evidence
        lines = [
            f"root:     {self.root}",
            f"          ({_RULES.get(evidence.get('rule', ''), evidence.get('rule', ''))})",
            f"types:    {', '.join(self.types) or '(none recognised)'}",
        ]
        for type_id, why in evidence.get("types", {}).items():
            lines.append(f"          {type_id}: {why}")
        for type_id, why in evidence.get("secondary", {}).items():
            lines.append(f"          (not a type) {type_id}: {why}")
        lines.append(f"vcs:      {self.vcs or 'none'}")
        if self.nearest_project and self.nearest_project != self.root:
            lines.append(f"nearest project: {self.nearest_project}")
        if self.identity != self.root:
            lines.append(f"identity: {self.identity}")
        lines.append(f"started from {self.start} ({_SOURCES.get(self.source, self.source)})")
        lines.extend(f"note: {note}" for note in evidence.get("notes", []))
        lines.extend(f"warning: {warning}" for warning in evidence.get("warnings", []))
        return "\n".join(lines)


_RULES = {
    "config": "pinned by .taskweave.toml",
    "vcs": "the enclosing version-control root",
    "outermost-marker": "the outermost directory on the way up with a project marker",
    "start": "no version control or project marker above; the starting directory",
}
_SOURCES = {
    "argument": "the directory asked for",
    "roots": "the client's MCP roots",
    "env": "TASKWEAVE_WORKSPACE",
    "cwd": "the working directory",
}
