"""The baseline the server benchmark compares against: a bare `MCPServer` with one no-op tool.

It runs on the same MCP SDK and Python as taskweave, so what the bench reports
as a ratio is the cost taskweave adds on top of the SDK itself. The bench
spawns this file by its path (`baseline_params()`), so the baseline process imports
nothing but the SDK; `python -m bench.server.baseline` runs it too.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mcp.server.mcpserver import MCPServer

if TYPE_CHECKING:
    from mcp.client.stdio import StdioServerParameters

NOOP_TOOL = "noop"


def baseline_params() -> StdioServerParameters:
    """The baseline on stdio, launched the way `taskweave serve` is."""
    from bench.common import stdio_params  # not at the top: the baseline process must not load the bench's imports

    return stdio_params([sys.executable, str(Path(__file__).resolve())])


def serve() -> None:
    server = MCPServer("baseline")

    @server.tool(name=NOOP_TOOL, structured_output=False)
    def noop() -> str:
        """Do nothing: the round trip of this call is the SDK's floor."""
        return "ok"

    server.run()


if __name__ == "__main__":
    serve()
