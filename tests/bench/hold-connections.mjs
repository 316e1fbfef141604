// hold-connections.mjs URL TOKEN N READY_FILE - open N keep-alive connections to URL, send
// one tools/list on each, then hold them all open (idle) until killed; writes N to
// READY_FILE once every connection has had its answer.  tests/bench/perf reads the
// frontend's RSS meanwhile.
// SPDX-License-Identifier: Apache-2.0
import http from 'node:http';
import { writeFileSync } from 'node:fs';

const [url, token, count, ready] = process.argv.slice(2);
const n = Number(count);
const agent = new http.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n, timeout: 0 });
const meta = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'hold-connections', version: '1' },
};
const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } });
function once() {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: {
        'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/list',
        Authorization: `Bearer ${token}`, 'Content-Length': Buffer.byteLength(body),
      },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
await Promise.all(Array.from({ length: n }, once));
const open = Object.values(agent.freeSockets).reduce((a, l) => a + l.length, 0);
if (open !== n) {
  console.error(`only ${open} of ${n} connections stayed open`);
  process.exit(1);
}
writeFileSync(ready, String(open));
setInterval(() => {}, 1 << 30);
