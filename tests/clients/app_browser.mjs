// app_browser.mjs - the task view App (ui://taskwire/task) in a real browser, rendered by a
// host page built on the official MCP Apps host bridge, against a taskwire stack.
//
//   node app_browser.mjs URL TOKEN PORT PG_PORT      (run by tests/clients/run browser)
//
// URL is the stack's MCP endpoint (authentication on), TOKEN a bearer token for it; PORT a
// free loopback port for this test's own server, PG_PORT the stack's PostgreSQL.  The
// server serves the host page (app/host.html with app/host.js bundled by esbuild now) on
// http://127.0.0.1:PORT, the sandbox proxy (app/sandbox.*) on http://localhost:PORT (a
// different origin, as the Apps specification requires), and proxies POST /mcp to URL
// with the token added (same origin for the page: no CORS, no credentials in the browser).
// Debian's Chromium (/usr/bin/chromium), headless, driven by playwright-core, then checks:
//
//   1. sleep (30 steps of 1 s) as a task: discover advertises the extension; the resource
//      is text/html;profile=mcp-app with a CSP naming no domain; the View shows the task
//      working, two different progress values in turn and the "step i/n" message; it
//      reports its size; its CSP blocks a fetch and an injected script; Cancel inside the
//      View ends the task: cancelled by tasks/get and in PostgreSQL, and shown so;
//   2. sleep (1 s, 2 steps) runs to its end and the View shows its result text;
//   3. echo without the Tasks extension: a plain CallToolResult, shown as it is;
//
// and in every case that the View called only its app-visible tools and that no page,
// proxy or View logged an error (a CSP violation would).  Every wait has a deadline.
// Prints one line per check, the time each case took, and "N passed, M failed"; exits 1 on
// any failure.  With TASKWIRE_BROWSER_SHOTS=DIR it also saves a screenshot of each case
// there (a look at the View for a person; nothing is checked on them).
// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const [url, token, portText, pgPortText] = process.argv.slice(2);
if (!url || !token || !portText || !pgPortText) {
  console.error('usage: node app_browser.mjs URL TOKEN PORT PG_PORT');
  process.exit(2);
}
const PORT = Number(portText);
const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const APP_URI = 'ui://taskwire/task';
const APP_TOOLS = ['taskwire_task_status', 'taskwire_task_cancel'];
const SHOTS = process.env.TASKWIRE_BROWSER_SHOTS;
let passed = 0;
let failed = 0;

function check(what, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok   - ${what}`);
  } else {
    failed++;
    console.log(`FAIL - ${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
  }
  return ok;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll 'probe' every 50 ms until it returns something truthy (returned) or 'ms' pass
// (undefined).  Errors count as "not yet".
async function until(ms, probe) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch {
      /* not yet */
    }
    await sleep(50);
  }
  return undefined;
}

// ---- the test server: host page, sandbox proxy, /mcp proxy ----

// The CSP of the proxy page for a resource's _meta.ui.csp, built as the specification's
// "CSP Construction from Metadata" does (its View inherits it).
function proxyCsp(csp) {
  const list = (k) => (Array.isArray(csp?.[k]) ? csp[k].filter((d) => /^[a-z]+:\/\/[^\s;,']+$/i.test(d)) : []);
  const r = list('resourceDomains').join(' ');
  const frames = list('frameDomains').join(' ') || "'none'";
  const base = list('baseUriDomains').join(' ') || "'self'";
  return [
    "default-src 'none'", `script-src 'self' 'unsafe-inline' ${r}`, `style-src 'self' 'unsafe-inline' ${r}`,
    `connect-src 'self' ${list('connectDomains').join(' ')}`, `img-src 'self' data: ${r}`,
    `font-src 'self' ${r}`, `media-src 'self' data: ${r}`, `frame-src ${frames}`, "object-src 'none'",
    `base-uri ${base}`,
  ].map((d) => d.trim()).join('; ');
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

async function startServer(bundle) {
  const files = {
    '/': ['host.html', 'text/html; charset=utf-8'],
    '/sandbox.html': ['sandbox.html', 'text/html; charset=utf-8'],
    '/sandbox.js': ['sandbox.js', 'text/javascript; charset=utf-8'],
  };
  const served = { csp: [], mcp: 0 };
  const server = http.createServer(async (req, res) => {
    try {
      const u = new URL(req.url, `http://${req.headers.host}`);
      const proxyOrigin = req.headers.host === `localhost:${PORT}`;
      if (req.method === 'POST' && u.pathname === '/mcp' && !proxyOrigin) {
        const headers = { Authorization: `Bearer ${token}` };
        for (const h of ['content-type', 'accept', 'mcp-protocol-version', 'mcp-method', 'mcp-name'])
          if (req.headers[h]) headers[h] = req.headers[h];
        const r = await fetch(url, { method: 'POST', headers, body: await readBody(req) });
        served.mcp++;
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await r.arrayBuffer()));
        return;
      }
      if (req.method === 'GET' && u.pathname === '/host.bundle.js' && !proxyOrigin) {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        res.end(bundle);
        return;
      }
      const f = req.method === 'GET' && files[u.pathname];
      // The host page only on the host origin, the proxy only on the other one.
      if (!f || proxyOrigin !== u.pathname.startsWith('/sandbox')) {
        res.writeHead(404).end();
        return;
      }
      const headers = { 'content-type': f[1], 'cache-control': 'no-store' };
      if (u.pathname === '/sandbox.html') {
        headers['content-security-policy'] = proxyCsp(JSON.parse(u.searchParams.get('csp') ?? '{}'));
        served.csp.push(headers['content-security-policy']);
      }
      res.writeHead(200, headers);
      res.end(await readFile(join(HERE, 'app', f[0])));
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(PORT, '127.0.0.1', resolve);
  });
  return { server, served };
}

// ---- MCP from the test itself (to check what the View did) ----

async function mcp(method, params, name) {
  const headers = {
    'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': method, Authorization: `Bearer ${token}`,
  };
  if (name) headers['Mcp-Name'] = name;
  const body = { jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'taskwire-browser-test', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } },
  } } };
  const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return r.json();
}

function pgStatus(id) {
  return execFileSync('psql', ['-X', '-At', '-h', '127.0.0.1', '-p', pgPortText, '-U', 'taskwire', '-d',
    'taskwire', '-c', `SELECT status FROM tasks WHERE id = '${id}'`], { encoding: 'utf8' }).trim();
}

// ---- one host page with the View ----

// Open the host page for 'tool' with 'args'; returns {page, view (a FrameLocator of the
// View), inView (runs a function in the View), host (a reader of window.__host), problems}.
async function openHost(context, tool, args, extra = '') {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text()))
      problems.push(`${m.location()?.url ?? ''}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  const hash = new URLSearchParams({ tool, args: JSON.stringify(args) });
  await page.goto(`http://127.0.0.1:${PORT}/#${hash}${extra}`);
  const host = () => page.evaluate(() => window.__host);
  const view = page.frameLocator('#app-frame').frameLocator('iframe');
  const ready = await until(20000, async () => {
    const h = await host();
    if (h.error) throw new Error(h.error);
    return h.ready && h.initialized && h.toolResult ? h : null;
  });
  check(`${tool}: the host read the App, rendered it and sent the tool result (20 s)`, ready,
    await host().catch((e) => String(e)));
  // Runs fn inside the View, waiting for its document (a frame looked up once can still be
  // about:blank or replaced).
  const inView = (fn, arg) => view.locator('html').evaluate(fn, arg, { timeout: 5000 });
  return { page, view, inView, host, problems };
}

const text = (loc) => loc.textContent({ timeout: 1000 }).then((t) => t.trim());

// Checks common to every case: the View spoke only to its own tools, reported its size,
// fits the narrow frame, and nothing logged an error.
async function checkCommon(name, h) {
  if (SHOTS) await h.page.screenshot({ path: join(SHOTS, `${name}.png`) });
  const state = await h.host();
  check(`${name}: the View called only app-visible tools`,
    state.calls.every((c) => APP_TOOLS.includes(c)) && state.refused.length === 0, state.calls);
  const sized = await until(5000, async () => (await h.host()).sizes.find((s) => s.height > 0));
  check(`${name}: the View reported its size (ui/notifications/size-changed)`, sized, (await h.host()).sizes);
  const fits = await h.inView(() => document.documentElement.scrollWidth <= window.innerWidth + 1).catch(String);
  check(`${name}: the View fits its 300 px frame (no horizontal overflow)`, fits === true, fits);
  check(`${name}: no page, proxy or View logged an error`, h.problems.length === 0, h.problems);
}

// ---- the cases ----

async function caseCancel(context, served) {
  const h = await openHost(context, 'sleep', { seconds: 30, steps: 30 });
  const state = await h.host();
  check('discover advertises io.modelcontextprotocol/ui',
    state.discover?.capabilities?.extensions?.['io.modelcontextprotocol/ui'] !== undefined, state.discover);
  check('the resource is text/html;profile=mcp-app with a CSP naming no domain',
    state.resource?.uri === APP_URI && state.resource?.mimeType === 'text/html;profile=mcp-app' &&
      Object.values(state.resource?.meta?.ui?.csp ?? { x: [1] }).every((v) => v.length === 0), state.resource);
  check('the proxy page got the CSP of no domain', served.csp.length > 0 &&
    /connect-src 'self'(;|$)/.test(served.csp.at(-1)) && /frame-src 'none'/.test(served.csp.at(-1)), served.csp);
  const taskId = state.toolResult?.taskId;
  check('tools/call sleep with the Tasks extension answered a CreateTaskResult',
    state.toolResult?.resultType === 'task' && typeof taskId === 'string', state.toolResult);
  check('the View shows the task id', await until(10000, async () => (await text(h.view.locator('#task-id'))) === taskId));
  check('the View shows the task working (10 s)',
    await until(10000, async () => (await text(h.view.locator('#status'))) === 'Working'));
  const bar = h.view.getByRole('progressbar', { name: 'Progress' });
  const valueNow = async () => {
    const v = await bar.getAttribute('aria-valuenow', { timeout: 500 });
    return v === null ? NaN : Number(v);
  };
  const first = await until(15000, async () => {
    const v = await valueNow();
    return Number.isFinite(v) ? { v } : null;
  });
  check('a first progress value shows (15 s)', first !== undefined, first);
  const second = await until(15000, async () => {
    const v = await valueNow();
    return first && v > first.v ? { v } : null;
  });
  check('then a greater one: the progress advances (15 s)', second !== undefined, [first, second]);
  check('the progress bar says where it stands (aria-valuemax 30, aria-valuetext)',
    (await bar.getAttribute('aria-valuemax')) === '30' && /of 30/.test(await bar.getAttribute('aria-valuetext')));
  check('the View shows the status message "step i/30"', /^step \d+\/30$/.test(await text(h.view.locator('#message'))),
    await text(h.view.locator('#message')).catch(String));
  if (SHOTS) await h.page.screenshot({ path: join(SHOTS, 'working.png') });
  const cancel = h.view.getByRole('button', { name: 'Cancel task' });
  check('the Cancel button is enabled while the task runs', await cancel.isEnabled());
  await cancel.click();
  check('after Cancel the View shows the task cancelled (10 s)',
    await until(10000, async () => (await text(h.view.locator('#status'))) === 'Cancelled'));
  const got = await mcp('tasks/get', { taskId }, taskId);
  check('tasks/get says cancelled', got.result?.status === 'cancelled', got);
  check('PostgreSQL says cancelled', pgStatus(taskId) === 'cancelled', pgStatus(taskId));
  check('the Cancel button is disabled once the task ended', await cancel.isDisabled());
  check('the View went through taskwire_task_cancel', (await h.host()).calls.includes('taskwire_task_cancel'));
  await checkCommon('cancel', h);
  // The View's own CSP: no connection, no script it did not ship.
  const blocked = await h.inView(async (u) => {
    let fetched;
    try { await fetch(u); fetched = true; } catch { fetched = false; }
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true;';
    document.body.appendChild(s);
    return { fetched, injected: window.__injected === true };
  }, `http://127.0.0.1:${PORT}/`);
  check('the View cannot fetch nor run an injected script (its CSP)', blocked && !blocked.fetched && !blocked.injected, blocked);
  // Those refusals are logged in the View: proof that the "nothing logged an error" checks
  // hear the View at all.
  check('the View\'s CSP refusals reach the console listener (5 s)',
    await until(5000, () => h.problems.some((p) => /Content Security Policy/.test(p))), h.problems);
  await h.page.close();
}

async function caseComplete(context) {
  const h = await openHost(context, 'sleep', { seconds: 1, steps: 2 });
  check('the View shows the task completed (15 s)',
    await until(15000, async () => (await text(h.view.locator('#status'))) === 'Completed'));
  check('... with its result text', await until(5000, async () =>
    (await text(h.view.locator('#result-text'))) === 'Slept 1 s in 2 steps.'),
  await text(h.view.locator('#result-text')).catch(String));
  const bar = h.view.getByRole('progressbar', { name: 'Progress' });
  check('... and its progress full (2 of 2)', (await bar.getAttribute('aria-valuenow')) === '2' &&
    (await bar.getAttribute('aria-valuemax')) === '2');
  check('... and no Cancel to press', await h.view.getByRole('button', { name: 'Cancel task' }).isDisabled());
  await checkCommon('complete', h);
  await h.page.close();
}

async function casePlain(context) {
  const h = await openHost(context, 'echo', { text: 'hello from the host' }, '&tasks=0');
  const state = await h.host();
  check('echo without the Tasks extension answered a plain CallToolResult',
    state.toolResult?.taskId === undefined && state.toolResult?.content?.[0]?.text === 'hello from the host', state.toolResult);
  check('the View shows the plain result as it is (10 s)', await until(10000, async () =>
    (await text(h.view.locator('#result-text'))) === 'hello from the host' &&
    (await text(h.view.locator('#status'))) === 'Completed'));
  check('... with nothing to cancel and no task polled', (await h.view.getByRole('button', { name: 'Cancel task' }).isDisabled()) &&
    (await h.host()).calls.length === 0, (await h.host()).calls);
  await checkCommon('plain', h);
  await h.page.close();
}

async function main() {
  let t = Date.now();
  const built = await esbuild.build({
    entryPoints: [join(HERE, 'app', 'host.js')], bundle: true, format: 'esm', platform: 'browser',
    target: 'chrome120', write: false, logLevel: 'error',
  });
  const bundle = built.outputFiles[0].contents;
  console.log(`# host bundled by esbuild in ${Date.now() - t} ms (${bundle.length} bytes)`);
  const { server, served } = await startServer(bundle);
  t = Date.now();
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  console.log(`# ${CHROMIUM} ${browser.version()} started in ${Date.now() - t} ms`);
  try {
    const context = await browser.newContext();
    for (const [name, run] of [['cancel', () => caseCancel(context, served)], ['complete', () => caseComplete(context)],
      ['plain', () => casePlain(context)]]) {
      t = Date.now();
      try {
        await run();
      } catch (e) {
        check(`${name}: ran to its end`, false, String(e?.stack ?? e));
      }
      console.log(`# case ${name}: ${Date.now() - t} ms`);
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL - the test could not run: ${e?.stack ?? e}`);
  process.exit(1);
});
