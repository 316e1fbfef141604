// tests/oauth/sdk_v2.mjs - the official TypeScript MCP client (@modelcontextprotocol/client,
// 2026-07-28) with its OAuth client-credentials support, against the stack of
// tests/oauth/stack: it starts without a token, follows the 401 to the RFC 9728 metadata and
// the authorization server, gets a token, and runs a task to completion through
// @modelcontextprotocol/ext-tasks (the 2.x Client itself refuses resultType "task", so
// task-shaped traffic goes over a second transport with the same auth provider).
//
//   node sdk_v2.mjs MCP_URL ISSUER CLIENT_ID CLIENT_SECRET   (NODE_EXTRA_CA_CERTS = test CA)
//
// Prints one "ok - ..." or "FAIL - ..." line per check and "N passed, M failed"; exits 1 on
// any failure.  Every request the SDK makes is recorded (method, URL, status) to check the
// discovery sequence.
// SPDX-License-Identifier: Apache-2.0
import { Client, StreamableHTTPClientTransport, ClientCredentialsProvider } from '@modelcontextprotocol/client';
import { createTaskSessionFromClient, resultFromTaskOutcome } from '@modelcontextprotocol/ext-tasks/client';

const [url, issuer, clientId, clientSecret] = process.argv.slice(2).map((a, i) => (i === 0 ? new URL(a) : a));
let passed = 0;
let failed = 0;
function check(what, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} - ${what}${ok || !detail ? '' : ` (${detail})`}`);
}

// Every HTTP exchange of the SDK (transport, metadata discovery, token endpoint).
const seen = [];
const recordingFetch = async (input, init) => {
  const res = await fetch(input, init);
  const u = new URL(typeof input === 'string' ? input : input.url ?? String(input));
  seen.push({ method: init?.method ?? 'GET', where: u.origin + u.pathname, status: res.status });
  return res;
};

const authProvider = new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer: issuer });
check('no token before connecting', authProvider.tokens() === undefined);
const clientInfo = { name: 'taskwire-oauth-e2e', version: '1.0.0' };
const capabilities = {};
const client = new Client(clientInfo, { capabilities, versionNegotiation: { mode: { pin: '2026-07-28' } } });
const transportOptions = { authProvider, fetch: recordingFetch };
const deadline = setTimeout(() => { console.log('FAIL - the test did not finish within 60 s'); process.exit(1); }, 60000);
let raw;
let session;
try {
  await client.connect(new StreamableHTTPClientTransport(url, transportOptions));
  const metadata = `${url.origin}/.well-known/oauth-protected-resource${url.pathname}`;
  const first401 = seen.findIndex((r) => r.where === url.href && r.status === 401);
  const meta = seen.findIndex((r) => r.where === metadata && r.status === 200);
  const token = seen.findIndex((r) => r.where === `${issuer}/token` && r.status === 200);
  const retried = seen.findIndex((r, i) => i > token && r.where === url.href && r.status === 200);
  check('the first request was refused 401', first401 === 0, JSON.stringify(seen));
  check('then the client read the resource metadata', meta > first401, JSON.stringify(seen));
  check('then it got a token from the authorization server', token > meta, JSON.stringify(seen));
  check('then the request succeeded with the token', retried > token, JSON.stringify(seen));
  check('the era is modern (2026-07-28)', client.getProtocolEra() === 'modern', client.getProtocolEra());
  check('the token has the scopes the challenge named',
    authProvider.tokens()?.scope === 'mcp:tools mcp:tasks', authProvider.tokens()?.scope);
  const tools = (await client.listTools()).tools.map((t) => t.name);
  check('tools/list lists sleep', tools.includes('sleep'), tools.join(' '));

  raw = new StreamableHTTPClientTransport(url, transportOptions);
  const pending = new Map();
  const replies = [];
  let nextId = 1;
  raw.onmessage = (m) => {
    const p = pending.get(m.id);
    if (p) { pending.delete(m.id); p(m); }
  };
  await raw.start();
  const rawDispatch = async (request) => {
    const id = `raw-${nextId++}`;
    const reply = new Promise((resolve) => pending.set(id, resolve));
    await raw.send({ jsonrpc: '2.0', id, ...request });
    const m = await reply;
    replies.push({ method: request.method, result: m.result, error: m.error });
    return 'error' in m ? { kind: 'error', error: m.error } : { kind: 'result', result: m.result };
  };
  session = createTaskSessionFromClient(client, {
    endpointId: url.href,
    rawDispatch,
    v2RequestFraming: { protocolVersion: '2026-07-28', clientInfo, clientCapabilities: capabilities },
  });
  const execution = await session.callTool('sleep', { seconds: 1, steps: 1 });
  const created = replies.find((r) => r.method === 'tools/call');
  check('tools/call answered with a task', created?.result?.resultType === 'task' &&
    typeof created.result.taskId === 'string', JSON.stringify(created));
  const { outcome } = await execution.settle();
  check('the task completed', outcome?.status === 'completed', JSON.stringify(outcome));
  const polls = replies.filter((r) => r.method === 'tasks/get').length;
  check('the client polled tasks/get', polls >= 1, String(polls));
  const result = resultFromTaskOutcome(outcome);
  check('its result is a CallToolResult with content', Array.isArray(result?.content) &&
    result.content.length > 0 && !result.isError, JSON.stringify(result));
} catch (e) {
  check('the client ran without an exception', false, `${e?.name}: ${e?.message}`);
} finally {
  clearTimeout(deadline);
  await session?.close().catch(() => {});
  await raw?.close().catch(() => {});
  await client.close().catch(() => {});
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
