// graphile-worker.mjs - reference: graphile-worker running a no-op job, each job submitted
// on its own (tests/bench/refs/graphile-worker runs it; see tests/bench/README.md).
//
// Settings, and why (the library's documented options, graphile-worker 0.17):
// - Submissions: workerUtils.addJob('noop', payload), one job per call (one add_job() call
//   and commit each), `--inflight` calls in flight, from their own pg.Pool of that size.
// - Runner: run() with `concurrency` = --concurrency (8) and the task list { noop } whose
//   handler does nothing; its own pg.Pool of max(10, concurrency + 2) connections, the
//   library's documented recommendation.  Prepared statements on (the default).
// - Polling: new jobs are announced with LISTEN/NOTIFY, so an idle worker starts a new job
//   at once and a busy one fetches the next as soon as it finishes; pollInterval (default
//   2000 ms, documented as the fallback for jobs scheduled in the future and retries) is set
//   to 100 ms so that it never holds back a job.
// - Batching (localQueue, completeJobBatchDelay) is off, the library's default, as when
//   the issue measured it; --batched turns on the documented starting points, localQueue
//   size = concurrency + 1 and completeJobBatchDelay = 0.
// - Success logging off (NO_LOG_SUCCESS, documented); warnings and errors go to stderr.
// The schema is ref_graphile_worker, dropped and migrated afresh at the start and dropped at
// the end (--keep leaves it).
//
// SPDX-License-Identifier: Apache-2.0
import { EventEmitter } from 'node:events';

import {
  fail, load, measure, options, report, submitAll, Tally,
} from './common.mjs';

const NAME = 'graphile-worker';
const SCHEMA = 'ref_graphile_worker';
const PAYLOAD = { text: 'hello' };
const USAGE = `usage: tests/bench/refs/graphile-worker [--jobs N] [--inflight N] [--concurrency N]
         [--warmup N] [--batched] [--e2e-only] [--smoke] [--keep] [--timeout S]

Runs N no-op jobs through graphile-worker, in the schema ${SCHEMA}:
  end to end: a runner (concurrency C) is running while N jobs are submitted one by one
              (addJob, I in flight); e2e = N / (first submit -> last job completed in the
              database), insert = N / (first submit -> last submit answered);
  then, unless --e2e-only, apart: N jobs submitted with no runner (insert alone), then a
              runner started that processes them (process alone, runner start included).
A warm-up of W jobs through the running runner comes first (not measured).

  --jobs N         jobs per phase [2000; 200 with --smoke]
  --inflight I     submissions in flight [8]
  --concurrency C  runner concurrency [8]
  --warmup W       warm-up jobs, 0 for none [100; 20 with --smoke]
  --batched        localQueue size C + 1 and completeJobBatchDelay 0 (default: off)
  --e2e-only       skip the separate insert and process phases
  --smoke          fewer jobs, for CI
  --keep           leave the schema ${SCHEMA} (default: dropped at the end)
  --timeout S      give up on a phase after S seconds [300]

Connection: libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD).
The last line on stdout is one JSON object:
  {"name":"graphile_worker","version":"0.17.3","node":"20.20.2","jobs":2000,"inflight":8,
   "concurrency":8,"batched":false,"insert_per_s":600.0,"e2e_per_s":400.0,
   "insert_alone_per_s":650.0,"process_per_s":1200.0}
`;

const opt = options(NAME, USAGE, { batched: { type: 'boolean' } });
const batched = Boolean(opt.values.batched);
process.env.NO_LOG_SUCCESS = '1'; // read when graphile-worker is loaded
const { mod: gw, version } = load(NAME, 'graphile-worker');
const { mod: pg } = load(NAME, 'pg');

const logger = new gw.Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`${NAME}: ${level}: ${message}\n`);
});
const taskList = { noop: async () => {} };
const runnerOptions = (pgPool) => ({
  pgPool,
  schema: SCHEMA,
  logger,
  concurrency: opt.concurrency,
  pollInterval: 100,
  noHandleSignals: true,
  taskList,
  ...(batched ? {
    preset: {
      worker: { localQueue: { size: opt.concurrency + 1 }, completeJobBatchDelay: 0 },
    },
  } : {}),
});

const admin = new pg.Client({ application_name: 'ref-graphile-worker-admin' });
const producerPool = new pg.Pool({ max: opt.inflight, application_name: 'ref-graphile-worker-add' });
const runnerPool = new pg.Pool({
  max: Math.max(10, opt.concurrency + 2), application_name: 'ref-graphile-worker-run',
});
// The error handlers graphile-worker asks of a pool given to it (idle and checked-out clients).
const onPoolError = (err) => process.stderr.write(`${NAME}: connection: ${err.message}\n`);
for (const pool of [producerPool, runnerPool]) {
  pool.on('error', onPoolError);
  pool.on('connect', (client) => client.on('error', onPoolError));
}
let utils;
let adminConnected = false;

/* Jobs not yet completed (completed jobs are deleted). */
async function pending() {
  const r = await admin.query(`SELECT count(*)::int AS n FROM ${SCHEMA}._private_jobs`);
  return r.rows[0].n;
}

/* Submits n jobs, I in flight; returns the milliseconds. */
const submit = (n) => submitAll(n, opt.inflight, async () => {
  await utils.addJob('noop', PAYLOAD);
});

/*
 * Starts a runner whose successes are counted in the returned tally (the events emitter is
 * given to run(), so that no success is missed while it starts).
 */
async function startRunner() {
  const done = new Tally();
  const events = new EventEmitter();
  events.on('job:success', () => done.add());
  const runner = await gw.run({ ...runnerOptions(runnerPool), events });
  return { done, stop: () => runner.stop() };
}

async function main() {
  await admin.connect();
  adminConnected = true;
  await admin.query('SET client_min_messages = warning');
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  utils = await gw.makeWorkerUtils({ pgPool: producerPool, schema: SCHEMA, logger });
  await utils.migrate();
  const out = {
    name: 'graphile_worker',
    version,
    node: process.versions.node,
    jobs: opt.jobs,
    inflight: opt.inflight,
    concurrency: opt.concurrency,
    batched,
  };
  return measure(opt, out, { start: startRunner, submit, pending });
}

let result;
try {
  result = await main();
} catch (err) {
  process.stderr.write(`${NAME}: ${err.stack || err}\n`);
}
try {
  await utils?.release();
  if (adminConnected && !opt.keep) await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
  await producerPool.end();
  await runnerPool.end();
} catch (err) {
  process.stderr.write(`${NAME}: cleanup: ${err.message}\n`);
}
if (!result) fail(NAME, 'failed');
report(result);
process.exit(0);
