"""A small MCP server made with the official Python SDK (mcp 2.x, make test's reference venv), over stdio: a
calculator tool, and a tool that crashes the server (it writes why to stderr first). Used by Agents."""
import sys
from mcp.server import MCPServer
server = MCPServer("calculator")

@server.tool()
def power(base: float, exponent: float) -> str:
    """Raise base to the power exponent."""
    return str(base ** exponent)

@server.tool()
def crash(note: str) -> str:
    """Exits the server (a tool that crashes)."""
    sys.stderr.write("calculator: crashing on purpose: " + note + "\n")
    sys.stderr.flush()
    import os; os._exit(3)

if __name__ == "__main__":
    server.run()
