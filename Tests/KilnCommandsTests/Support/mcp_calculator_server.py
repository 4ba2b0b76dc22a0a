"""A small MCP server made with the official Python SDK (mcp 2.x, make test's reference venv): a calculator tool,
and a tool that crashes the server (it writes why to stderr first). Over stdio by default; with
`--http PORT TOKEN` over streamable HTTP on 127.0.0.1:PORT/mcp, where a call must carry `Authorization: Bearer
TOKEN`. Used by Agents."""
import sys
from mcp.server.mcpserver import Context, MCPServer
server = MCPServer("calculator")
TOKEN = sys.argv[3] if len(sys.argv) > 3 and sys.argv[1] == "--http" else None

@server.tool()
def power(base: float, exponent: float, ctx: Context) -> str:
    """Raise base to the power exponent."""
    if TOKEN is not None and (ctx.headers or {}).get("authorization") != "Bearer " + TOKEN:
        raise ValueError("unauthorized: the Authorization header is missing or wrong")
    return str(base ** exponent)

@server.tool()
def crash(note: str) -> str:
    """Exits the server (a tool that crashes)."""
    sys.stderr.write("calculator: crashing on purpose: " + note + "\n")
    sys.stderr.flush()
    import os; os._exit(3)

if __name__ == "__main__":
    if TOKEN is not None:
        server.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
