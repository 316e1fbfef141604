-- create.lua - wrk script: every request is a tools/call of the built-in "echo" tool from a
-- client that declares the Tasks extension, so each one creates a durable task (INSERT,
-- commit, push on the fabric) and the worker runs it.  Used by tests/sizing/measure.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "echo"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo",' ..
    '"arguments":{"text":"sizing"},"_meta":{' ..
    '"io.modelcontextprotocol/protocolVersion":"2026-07-28",' ..
    '"io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}},' ..
    '"io.modelcontextprotocol/clientInfo":{"name":"taskwire-sizing","version":"1"}}}}'

-- Answers that are not a created task (HTTP status other than 200).
function done(summary, latency, requests)
    io.write(string.format("non-200 answers: %d\n", summary.errors.status))
end
