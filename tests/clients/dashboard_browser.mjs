// dashboard_browser.mjs - the operator dashboard (frontend/dashboard.h) in a real browser,
// against a taskwire stack.
//
//   node dashboard_browser.mjs ADMIN_URL PG_PORT      (run by tests/clients/run dashboard)
//
// ADMIN_URL is a frontend's admin server (http://127.0.0.1:PORT); PG_PORT the stack's
// PostgreSQL.  Tasks are put in the tasks table as a frontend would (the workers claim
// them from PostgreSQL): three long sleeps that run, a failing job, and four probes that
// stay queued (not_before in the future).  Debian's Chromium (/usr/bin/chromium), headless,
// driven by playwright-core, with a phone's viewport, then checks:
//
//   1. the page loads with its strict CSP, no inline code and no external request, and
//      fits the phone's width;
//   2. while the tasks run, the totals (queued, running), the tool rows and the workers on
//      the page equal what PostgreSQL says at the same time, and the queue chart draws;
//   3. the failed job appears under recent failures with its error message;
//   4. one running task shown by id has its timeline; Cancel on the page ends it cancelled
//      in PostgreSQL and the page says so;
//   5. the cancel endpoint refuses a POST without the page's header (403), from the page
//      and from outside;
//
// and that the page logged no error (a CSP violation would).  Every wait has a deadline.
// Prints one line per check and "N passed, M failed"; exits 1 on any failure.
// SPDX-License-Identifier: Apache-2.0
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';

const [adminUrl, pgPort] = process.argv.slice(2);
if (!adminUrl || !pgPort) {
  console.error('usage: node dashboard_browser.mjs ADMIN_URL PG_PORT');
  process.exit(2);
}
const CHROMIUM = '/usr/bin/chromium';
const OWNER = 'dashboard-test';
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

function sql(text) {
  return execFileSync('psql', ['-X', '-At', '-h', '127.0.0.1', '-p', pgPort, '-U', 'taskwire', '-d',
    'taskwire', '-c', text], { encoding: 'utf8' }).trim();
}

// Insert a task as a frontend would; returns its id.
function insertTask(tool, args, later = false) {
  const id = randomUUID();
  sql(`INSERT INTO tasks (id, owner, tool, args, ttl_ms, poll_interval_ms, expires_at, not_before)
       VALUES ('${id}', '${OWNER}', '${tool}', '${JSON.stringify(args)}', 600000, 200,
               now() + interval '10 minutes', ${later ? "now() + interval '1 hour'" : "'-infinity'"})`);
  return id;
}

async function until(what, seconds, fn) {
  const end = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last === true) return check(what, true);
    await new Promise((r) => setTimeout(r, 200));
  }
  return check(what, false, last);
}

// What the database says now, in the page's terms.
function dbNumbers() {
  const [queued, running, probes, sleeps, workers] = sql(
    `SELECT (SELECT count(*) FROM tasks WHERE status = 'queued'), (SELECT count(*) FROM tasks WHERE status = 'running'),
            (SELECT count(*) FROM tasks WHERE status = 'queued' AND tool = 'dash_probe'),
            (SELECT count(*) FROM tasks WHERE status = 'running' AND tool = 'sleep'),
            (SELECT string_agg(id, ',' ORDER BY id) FROM workers)`).split('|');
  return { queued, running, probes, sleeps, workers };
}

async function pageNumbers(page) {
  return page.evaluate(() => {
    const t = (id) => document.getElementById(id).textContent;
    const cell = (tool, i) => document.querySelector(`#tools tr[data-tool="${tool}"] td:nth-child(${i})`)?.textContent;
    return {
      queued: t('total-queued'), running: t('total-running'), probes: cell('dash_probe', 2), sleeps: cell('sleep', 4),
      workers: [...document.querySelectorAll('#workers tr[data-worker]')].map((r) => r.dataset.worker).join(','),
    };
  });
}

async function numbersMatch(page) {
  const before = dbNumbers();
  const shown = await pageNumbers(page);
  const after = dbNumbers();
  const same = (a, b) => Object.keys(a).every((k) => String(a[k]) === String(b[k]));
  return (same(before, after) && same(before, shown)) || { db: before, page: shown };
}

async function casePage(page, problems, ids) {
  const response = await page.goto(`${adminUrl}/dashboard`);
  const csp = response.headers()['content-security-policy'] ?? '';
  check('the page is served with a strict CSP', /default-src 'none'/.test(csp) && /script-src 'self'/.test(csp)
    && !/unsafe-inline/.test(csp), csp);
  check('it has no inline script or style', await page.evaluate(() =>
    [...document.scripts].every((s) => s.src) && document.querySelectorAll('style,[style]').length === 0));
  await until('the page shows the numbers of the database while tasks run', 20, () => numbersMatch(page));
  check('the running sleeps and queued probes are there', (await pageNumbers(page)).probes === '4'
    && (await pageNumbers(page)).sleeps === '3', await pageNumbers(page));
  await until('the queue chart has drawn several samples', 10, async () =>
    (await page.locator('#queue-line').getAttribute('points')).split(' ').length >= 3);
  check('the page fits a phone\'s width', await page.evaluate(() =>
    document.documentElement.scrollWidth <= window.innerWidth + 1));
  await until('the failed job is listed with its error', 20, async () => {
    const text = await page.locator('#failures').textContent();
    return (text.includes(ids.failing) && text.includes('simulated protocol failure')) || text;
  });
  check('only same-origin requests were made', problems.foreign.length === 0, problems.foreign);
}

async function caseCancel(page, ids) {
  const id = ids.sleeps[0];
  await page.fill('#task-id', id);
  await page.click('#task-show');
  await until('one task shows as running with its timeline', 10, async () =>
    (await page.locator('#task-status').getAttribute('data-status')) === 'running'
    && (await page.locator('#task-timeline li').count()) >= 3);
  await page.click('#task-cancel');
  await until('the page says cancelled', 10, async () =>
    (await page.locator('#task-status').getAttribute('data-status')) === 'cancelled');
  check('PostgreSQL says cancelled', sql(`SELECT status FROM tasks WHERE id = '${id}'`) === 'cancelled');
  const other = ids.sleeps[1];
  const fromPage = await page.evaluate(async (tid) =>
    (await fetch(`/dashboard/api/cancel?id=${tid}`, { method: 'POST' })).status, other);
  const fromOutside = (await fetch(`${adminUrl}/dashboard/api/cancel?id=${other}`, { method: 'POST' })).status;
  check('a cancel without the page\'s header is refused (403) and changes nothing',
    fromPage === 403 && fromOutside === 403 && sql(`SELECT status FROM tasks WHERE id = '${other}'`) === 'running',
    { fromPage, fromOutside });
}

async function main() {
  const ids = { sleeps: [], probes: [] };
  for (let i = 0; i < 3; i++) ids.sleeps.push(insertTask('sleep', { seconds: 40, steps: 40 }));
  for (let i = 0; i < 4; i++) ids.probes.push(insertTask('dash_probe', {}, true));
  ids.failing = insertTask('protocol_error_job', {});
  await until('the sleeps run', 15, () =>
    sql(`SELECT count(*) FROM tasks WHERE status = 'running' AND id IN ('${ids.sleeps.join("','")}')`) === '3');
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  console.log(`# ${CHROMIUM} ${browser.version()}`);
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const problems = { errors: [], foreign: [] };
    page.on('console', (m) => { if (m.type() === 'error') problems.errors.push(m.text()); });
    page.on('pageerror', (e) => problems.errors.push(String(e)));
    page.on('request', (r) => { if (!r.url().startsWith(adminUrl)) problems.foreign.push(r.url()); });
    for (const [name, run] of [['page', () => casePage(page, problems, ids)], ['cancel', () => caseCancel(page, ids)]]) {
      try {
        await run();
      } catch (e) {
        check(`${name}: ran to its end`, false, String(e?.stack ?? e));
      }
    }
    // The 403s of the refused cancels are logged by Chromium as failed loads; nothing else may be.
    const errors = problems.errors.filter((e) => !/403/.test(e));
    check('the page logged no error', errors.length === 0, errors);
  } finally {
    await browser.close();
    sql(`UPDATE tasks SET status = 'cancelled', worker_id = NULL, claim = NULL, lease_until = NULL
         WHERE owner = '${OWNER}' AND status IN ('queued', 'running')`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
