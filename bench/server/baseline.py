"""The baseline the server benchmark compares against: a bare `MCPServer` with one no-op tool.

It runs on the same MCP SDK and Python as taskweave, so what the bench reports
as a ratio is the cost taskweave adds on top of the SDK itself.
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("baseline")


@server.tool(structured_output=False)
def noop() -> str:
    """Do nothing: the round trip of this call is the SDK's floor."""
    return "ok"


if __name__ == "__main__":
    server.run()
