"""`kiln-pipe mcp` through the official Python MCP SDK's stdio client: a peer nobody here wrote.

Usage: mcp_client_check.py KILN_PIPE PIPELINE QUERY. Prints one JSON object of what the client saw.
"""
import json
import sys

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError


async def main():
    kiln_pipe, pipeline, query = sys.argv[1:4]
    seen = {}
    params = StdioServerParameters(command=kiln_pipe, args=["mcp", pipeline])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            initialized = await session.initialize()
            seen["server"] = initialized.server_info.name
            seen["tools"] = [tool.name for tool in (await session.list_tools()).tools]
            found = await session.call_tool("search", {"query": query, "k": 2})
            seen["search"] = {"is_error": found.is_error, "text": found.content[0].text}
            refused = await session.call_tool("search", {"query": query, "k": 0})
            seen["k_0"] = {"is_error": refused.is_error, "text": refused.content[0].text}
            try:
                await session.call_tool("serch", {"query": query})
                seen["unknown_tool"] = "answered"
            except MCPError as error:
                seen["unknown_tool"] = error.error.code
    print(json.dumps(seen))


anyio.run(main)
