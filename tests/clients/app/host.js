// host.js - a minimal MCP Apps host page built on the official AppBridge
// (@modelcontextprotocol/ext-apps/app-bridge), bundled by esbuild for the browser test
// (tests/clients/app_browser.mjs).
//
// It does what a web host does for one tool call, in the order of the Apps specification
// (2026-01-26): lists the tools, calls the one named in the location hash (with the
// Tasks and MCP Apps extensions declared, unless the hash says tasks=0), reads the UI
// resource the tool names in _meta.ui.resourceUri, renders it through a sandbox proxy on
// another origin (sandbox.html on http://localhost:PORT while this page is on
// http://127.0.0.1:PORT, iframe sandbox "allow-scripts allow-same-origin" as the
// specification requires of the proxy; the proxy puts the View in an inner iframe with
// sandbox "allow-scripts" only), connects the AppBridge to it, and sends the tool input
// and the tool result once the View is initialized.  The View's tools/call and
// resources/read are proxied to the MCP server; a tools/call of a tool whose
// _meta.ui.visibility lacks "app" is refused, as the specification tells hosts to.
//
// The MCP server is reached at /mcp on this page's own origin: the test server proxies it
// to the taskwire stack and adds the bearer token, so the page needs no CORS and holds no
// credentials.  What happened is kept in window.__host for the test to read.
// SPDX-License-Identifier: Apache-2.0
import { AppBridge, PostMessageTransport, getToolUiResourceUri } from '@modelcontextprotocol/ext-apps/app-bridge';

const VERSION = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const UI = 'io.modelcontextprotocol/ui';
const MIME = 'text/html;profile=mcp-app';

const hash = new URLSearchParams(location.hash.slice(1));
const toolName = hash.get('tool') ?? 'sleep';
const toolArgs = JSON.parse(hash.get('args') ?? '{}');
const withTasks = hash.get('tasks') !== '0';
const state = (window.__host = {
  ready: false, error: null, toolResult: null, resource: null, discover: null,
  initialized: false, calls: [], refused: [], sizes: [], logs: [],
});

const capabilities = { extensions: { [UI]: { mimeTypes: [MIME] } } };
if (withTasks) capabilities.extensions[TASKS] = {};
let nextId = 1;

// One 2026-07-28 request through the same-origin proxy; its result, or a thrown error
// carrying the JSON-RPC code (an SSE answer is read to its response).
async function mcp(method, params = {}, name = undefined) {
  const id = nextId++;
  const body = {
    jsonrpc: '2.0', id, method,
    params: { ...params, _meta: {
      'io.modelcontextprotocol/protocolVersion': VERSION,
      'io.modelcontextprotocol/clientInfo': { name: 'taskwire-browser-test-host', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': capabilities,
    } },
  };
  const headers = {
    'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': VERSION, 'Mcp-Method': method,
  };
  if (name !== undefined) headers['Mcp-Name'] = name;
  const res = await fetch('/mcp', { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  let message;
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    for (const line of text.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      const m = JSON.parse(line.slice(5));
      if (m.id === id) message = m;
    }
  } else {
    message = JSON.parse(text);
  }
  if (!message) throw new Error(`no answer to ${method} (HTTP ${res.status})`);
  if (message.error) {
    const e = new Error(message.error.message);
    e.code = message.error.code;
    e.data = message.error.data;
    throw e;
  }
  return message.result;
}

// The CSP the proxy page is served with: the specification's construction from the
// resource's _meta.ui.csp (no domain declared: nothing outside).
function proxyUrl(csp) {
  const url = new URL('/sandbox.html', `http://localhost:${location.port}`);
  url.searchParams.set('csp', JSON.stringify(csp ?? {}));
  return url.href;
}

async function main() {
  state.discover = await mcp('server/discover');
  const { tools } = await mcp('tools/list');
  const tool = tools.find((t) => t.name === toolName);
  if (!tool) throw new Error(`no tool ${toolName}`);
  const uri = getToolUiResourceUri(tool);
  if (!uri) throw new Error(`${toolName} names no UI resource`);
  const read = await mcp('resources/read', { uri }, uri);
  const content = read.contents[0];
  state.resource = { uri: content.uri, mimeType: content.mimeType, meta: content._meta ?? null };
  if (content.mimeType !== MIME) throw new Error(`unexpected mimeType ${content.mimeType}`);

  // The call runs while the View starts, as a host does.
  const result = mcp('tools/call', { name: toolName, arguments: toolArgs }, toolName);

  const frame = document.createElement('iframe');
  frame.id = 'app-frame';
  frame.title = `${toolName}: ${uri}`;
  frame.setAttribute('sandbox', 'allow-scripts allow-same-origin');
  frame.src = proxyUrl(content._meta?.ui?.csp);
  document.getElementById('view').appendChild(frame);

  const bridge = new AppBridge(null, { name: 'taskwire-browser-test-host', version: '1.0.0' },
    { serverTools: {}, serverResources: {}, logging: {} },
    { hostContext: { theme: 'light', displayMode: 'inline', platform: 'web',
      containerDimensions: { width: 300, maxHeight: 800 } } });
  bridge.oncalltool = async (params) => {
    const target = tools.find((t) => t.name === params.name);
    const visibility = target?._meta?.ui?.visibility ?? ['model', 'app'];
    if (!target || !visibility.includes('app')) {
      state.refused.push(params.name);
      throw Object.assign(new Error(`tool ${params.name} is not visible to apps`), { code: -32602 });
    }
    state.calls.push(params.name);
    return mcp('tools/call', { name: params.name, arguments: params.arguments ?? {} }, params.name);
  };
  bridge.onreadresource = async (params) => mcp('resources/read', params, params.uri);
  bridge.onloggingmessage = (params) => state.logs.push(params);
  bridge.onsizechange = ({ width, height }) => {
    state.sizes.push({ width, height });
    if (height) frame.style.height = `${height}px`;
  };
  bridge.onsandboxready = () => {
    bridge.sendSandboxResourceReady({ html: content.text, csp: content._meta?.ui?.csp });
  };
  bridge.oninitialized = async () => {
    state.initialized = true;
    await bridge.sendToolInput({ arguments: toolArgs });
    state.toolResult = await result.catch((e) => {
      state.error = `tools/call ${toolName}: ${e.message}`;
      return { content: [{ type: 'text', text: e.message }], isError: true };
    });
    await bridge.sendToolResult(state.toolResult);
  };
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  state.ready = true;
}

main().catch((e) => {
  state.error = String(e?.stack ?? e);
  console.error('host failed:', e);
});
