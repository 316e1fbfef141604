// common.mjs - shared by the node references (graphile-worker.mjs, pg-boss.mjs): options,
// loading the pinned packages, the submission lanes, waiting with a deadline, the JSON line.
//
// The packages are not in the source tree: tests/bench/refs/npm-install puts them in a cache
// folder and the wrappers (tests/bench/refs/graphile-worker, tests/bench/refs/pg-boss) pass
// that node_modules folder in NODE_PATH.  ESM imports ignore NODE_PATH, so the packages (all
// CommonJS) are resolved from the NODE_PATH folders only and loaded with require.
//
// The connection is libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD),
// which node-postgres reads for every pool and client made without a connection string.
//
// SPDX-License-Identifier: Apache-2.0
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

/* Prints "NAME: message" on stderr and exits 1. */
export function fail(name, message) {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(1);
}

/* Milliseconds from an arbitrary origin, monotonic. */
export const now = () => performance.now();

/* Resolves after ms milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function positive(name, option, text) {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1) {
    process.stderr.write(`${name}: --${option} wants a positive integer, not '${text}'\n`);
    process.exit(2);
  }
  return Number(text);
}

/*
 * The options every node reference takes, plus EXTRA (node:util parseArgs descriptions,
 * all strings or booleans).  Prints USAGE and exits on --help (0) or a bad option (2).
 * Returns { jobs, inflight, concurrency, warmup, timeoutS, keep, e2eOnly, values }, values
 * holding the raw EXTRA options.
 */
export function options(name, usage, extra = {}) {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        jobs: { type: 'string' },
        inflight: { type: 'string' },
        concurrency: { type: 'string' },
        warmup: { type: 'string' },
        timeout: { type: 'string' },
        smoke: { type: 'boolean' },
        keep: { type: 'boolean' },
        'e2e-only': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...extra,
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    process.stderr.write(`${name}: ${err.message}\n${usage}`);
    process.exit(2);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const int = (option, dflt) => (v[option] === undefined ? dflt : positive(name, option, v[option]));
  return {
    jobs: int('jobs', v.smoke ? 200 : 2000),
    inflight: int('inflight', 8),
    concurrency: int('concurrency', 8),
    warmup: v.warmup === '0' ? 0 : int('warmup', v.smoke ? 20 : 100),
    timeoutS: int('timeout', 300),
    keep: Boolean(v.keep),
    e2eOnly: Boolean(v['e2e-only']),
    values: v,
  };
}

/*
 * Loads the package NAME from the NODE_PATH folders (as set by the wrappers).  Returns
 * { mod, version }: the module (require'd) and the version in its package.json.
 */
export function load(who, name) {
  const dirs = (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean);
  if (dirs.length === 0) {
    fail(who, 'NODE_PATH is not set: run the wrapper (tests/bench/refs/graphile-worker or ' +
      'pg-boss), or set NODE_PATH to the folder tests/bench/refs/npm-install prints');
  }
  const require = createRequire(import.meta.url);
  let file;
  try {
    file = require.resolve(name, { paths: dirs });
  } catch {
    fail(who, `cannot find the package ${name} in NODE_PATH (${dirs.join(', ')}); ` +
      'run tests/bench/refs/npm-install');
  }
  const marker = `${path.sep}node_modules${path.sep}${name}${path.sep}`;
  const root = file.slice(0, file.lastIndexOf(marker) + marker.length);
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  return { mod: require(file), version };
}

/*
 * Submits N jobs one by one with `inflight` submissions in flight: that many lanes, each
 * awaiting submitOne(i) before taking the next i.  Returns the elapsed milliseconds.
 */
export async function submitAll(n, inflight, submitOne) {
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      await submitOne(i);
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: Math.min(inflight, n) }, lane));
  return now() - t0;
}

/*
 * Calls probe() every intervalMs until it returns true; throws WHAT when that has not
 * happened by the deadline (an absolute now() value).
 */
export async function until(probe, intervalMs, deadline, what) {
  for (;;) {
    if (await probe()) return;
    if (now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/* Counts events; reach(n) resolves once the count is n or more. */
export class Tally {
  constructor() {
    this.count = 0;
    this.waiters = []; // { n, resolve }
  }

  add() {
    this.count += 1;
    this.waiters = this.waiters.filter((w) => {
      if (this.count < w.n) return true;
      w.resolve();
      return false;
    });
  }

  reach(n) {
    if (this.count >= n) return Promise.resolve();
    return new Promise((resolve) => { this.waiters.push({ n, resolve }); });
  }
}

/* Rejects with WHAT after the deadline (an absolute now() value) unless p settles first. */
export function withDeadline(p, deadline, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)),
      Math.max(0, deadline - now()));
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/* Jobs per second, one decimal. */
export const rate = (jobs, ms) => Math.round((jobs / (ms / 1000)) * 10) / 10;

/*
 * The phases every reference measures, adding their rates to `out`: a warm-up, then end to
 * end (the runner works while opt.jobs are submitted: insert_per_s, e2e_per_s), then, unless
 * opt.e2eOnly, apart (insert with no runner, then start one: insert_alone_per_s,
 * process_per_s).  start() starts a runner and returns { done: a Tally of finished jobs,
 * stop() }; submit(n) submits n jobs and returns the milliseconds; pending() counts the
 * jobs the database has not completed.
 */
export async function measure(opt, out, { start, submit, pending }) {
  const finished = async (done, n) => {
    const deadline = now() + opt.timeoutS * 1000;
    await withDeadline(done.reach(n), deadline, `${n} jobs to finish`);
    // A library may commit a completion after it says the job finished: wait for the table.
    await until(async () => (await pending()) === 0, 2, deadline, 'the completions');
  };
  let runner = await start();
  await submit(opt.warmup);
  await finished(runner.done, opt.warmup);
  const t0 = now();
  const insertMs = await submit(opt.jobs);
  await finished(runner.done, opt.warmup + opt.jobs);
  const e2eMs = now() - t0;
  await runner.stop();
  out.insert_per_s = rate(opt.jobs, insertMs);
  out.e2e_per_s = rate(opt.jobs, e2eMs);
  if (opt.e2eOnly) return out;
  const insertAloneMs = await submit(opt.jobs);
  if ((await pending()) !== opt.jobs) throw new Error('jobs were processed with no runner');
  const t1 = now();
  runner = await start();
  await finished(runner.done, opt.jobs);
  const processMs = now() - t1;
  await runner.stop();
  out.insert_alone_per_s = rate(opt.jobs, insertAloneMs);
  out.process_per_s = rate(opt.jobs, processMs);
  return out;
}

/* Prints the result: one JSON object, the last line on stdout. */
export function report(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}
