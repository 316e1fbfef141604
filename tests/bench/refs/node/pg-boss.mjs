// pg-boss.mjs - reference: pg-boss running a no-op job, each job submitted on its own
// (tests/bench/refs/pg-boss runs it; see tests/bench/README.md).
//
// Settings, and why (the library's documented API, pg-boss 10):
// - Submissions: send('noop', payload), one job per call (one insert and commit each),
//   `--inflight` calls in flight, from a PgBoss instance of their own (pool of that size,
//   no maintenance or scheduling: supervise and schedule off, migrate off).
// - Processing, --mode fetch (the default, as the issue measured it): `--concurrency` loops
//   (8) of fetch('noop') (batchSize 1: one job) -> no-op -> await complete('noop', id), on a
//   consumer PgBoss instance with a pool of concurrency + 2 and the default maintenance.  A
//   loop fetches again at once after a job; after an empty fetch it sleeps --poll-ms, by
//   default 500 ms, the smallest polling interval pg-boss allows its own workers
//   (pollingIntervalSeconds >= 0.5; the default is 2 s).  pg-boss 10 has no notification of
//   new jobs, so polling is how its consumers learn of them.
// - --mode work: `--concurrency` calls of work('noop', { batchSize: 1,
//   pollingIntervalSeconds: 0.5 }, handler), pg-boss 10's documented way to run jobs
//   concurrently (teamSize and teamConcurrency were removed in 10; each work() call adds
//   one polling worker).  Such a worker waits for the rest of its polling interval after
//   every fetch, even one that found a job, so it runs at most one job per 0.5 s.
// The schema is ref_pgboss, dropped and made afresh at the start and dropped at the end
// (--keep leaves it).
//
// SPDX-License-Identifier: Apache-2.0
import {
  fail, load, measure, options, report, sleep, submitAll, Tally,
} from './common.mjs';

const NAME = 'pg-boss';
const SCHEMA = 'ref_pgboss';
const QUEUE = 'noop';
const PAYLOAD = { text: 'hello' };
const USAGE = `usage: tests/bench/refs/pg-boss [--jobs N] [--inflight N] [--concurrency N]
         [--mode fetch|work] [--poll-ms P] [--warmup N] [--e2e-only] [--smoke] [--keep]
         [--timeout S]

Runs N no-op jobs through pg-boss, in the schema ${SCHEMA}:
  end to end: the consumers (C) are running while N jobs are submitted one by one (send,
              I in flight); e2e = N / (first submit -> last job completed in the database),
              insert = N / (first submit -> last submit answered);
  then, unless --e2e-only, apart: N jobs submitted with no consumer (insert alone), then
              the consumers started (process alone).
A warm-up of W jobs through the running consumers comes first (not measured).

  --jobs N         jobs per phase [2000; 200 with --smoke]
  --inflight I     submissions in flight [8]
  --concurrency C  consumers [8]
  --mode M         fetch: C loops of fetch -> no-op -> complete (default);
                   work: C work() workers, batchSize 1, pollingIntervalSeconds 0.5
  --poll-ms P      fetch mode: sleep after an empty fetch [500, pg-boss's minimum]
  --warmup W       warm-up jobs, 0 for none [100; 20 with --smoke]
  --e2e-only       skip the separate insert and process phases
  --smoke          fewer jobs, for CI
  --keep           leave the schema ${SCHEMA} (default: dropped at the end)
  --timeout S      give up on a phase after S seconds [300]

Connection: libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD).
The last line on stdout is one JSON object:
  {"name":"pg_boss","version":"10.4.2","node":"20.20.2","mode":"fetch","poll_ms":500,
   "jobs":2000,"inflight":8,"concurrency":8,"insert_per_s":900.0,"e2e_per_s":200.0,
   "insert_alone_per_s":1000.0,"process_per_s":220.0}
`;

const opt = options(NAME, USAGE, { mode: { type: 'string' }, 'poll-ms': { type: 'string' } });
const mode = opt.values.mode ?? 'fetch';
if (mode !== 'fetch' && mode !== 'work') {
  process.stderr.write(`${NAME}: --mode is fetch or work, not '${mode}'\n${USAGE}`);
  process.exit(2);
}
const pollText = opt.values['poll-ms'] ?? '500';
if (!/^[0-9]+$/.test(pollText)) {
  process.stderr.write(`${NAME}: --poll-ms wants an integer, not '${pollText}'\n`);
  process.exit(2);
}
const pollMs = Number(pollText);
const { mod: PgBoss, version } = load(NAME, 'pg-boss');
const { mod: pg } = load(NAME, 'pg');

const onError = (err) => process.stderr.write(`${NAME}: error: ${err.message}\n`);
const consumer = new PgBoss({
  schema: SCHEMA, max: opt.concurrency + 2, application_name: 'ref-pgboss-work',
});
const producer = new PgBoss({
  schema: SCHEMA,
  max: opt.inflight,
  application_name: 'ref-pgboss-send',
  supervise: false,
  schedule: false,
  migrate: false,
});
consumer.on('error', onError);
producer.on('error', onError);
const admin = new pg.Client({ application_name: 'ref-pgboss-admin' });
let adminConnected = false;

/* Jobs of the queue not completed yet. */
async function pending() {
  const r = await admin.query(
    `SELECT count(*)::int AS n FROM ${SCHEMA}.job WHERE name = $1 AND state <> 'completed'`,
    [QUEUE],
  );
  return r.rows[0].n;
}

/* Submits n jobs, I in flight; returns the milliseconds. */
const submit = (n) => submitAll(n, opt.inflight, async () => {
  if (!(await producer.send(QUEUE, PAYLOAD))) throw new Error('send() created no job');
});

const handler = async () => {}; // the no-op job

/*
 * Starts the C consumers; each completed job is counted in the returned tally.  Returns
 * { done, stop }: stop() ends the consumers and resolves when none runs any more.
 */
async function startConsumers() {
  const done = new Tally();
  if (mode === 'work') {
    for (let i = 0; i < opt.concurrency; i++) {
      // pg-boss completes the job after the handler returns (not awaited by the worker):
      // measure() waits until the database shows every job completed.
      await consumer.work(QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
        await handler(job);
        done.add();
      });
    }
    return {
      done,
      stop: async () => {
        await consumer.offWork(QUEUE);
        await sleep(100); // a fetch in flight when offWork was called ends meanwhile
      },
    };
  }
  let stopping = false;
  const wakers = new Set();
  const nap = (ms) => new Promise((resolve) => {
    const timer = setTimeout(() => { wakers.delete(wake); resolve(); }, ms);
    const wake = () => { clearTimeout(timer); resolve(); };
    wakers.add(wake);
  });
  const loop = async () => {
    while (!stopping) {
      const jobs = await consumer.fetch(QUEUE);
      if (jobs.length === 0) {
        await nap(pollMs);
        continue;
      }
      await handler(jobs[0]);
      await consumer.complete(QUEUE, jobs[0].id);
      done.add();
    }
  };
  const loops = Array.from({ length: opt.concurrency }, loop);
  return {
    done,
    stop: async () => {
      stopping = true;
      for (const wake of wakers) wake();
      await Promise.all(loops);
    },
  };
}

async function main() {
  await admin.connect();
  adminConnected = true;
  await admin.query('SET client_min_messages = warning');
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await consumer.start(); // makes the schema
  await producer.start();
  await consumer.createQueue(QUEUE);
  const out = {
    name: 'pg_boss',
    version,
    node: process.versions.node,
    mode,
    ...(mode === 'fetch' ? { poll_ms: pollMs } : { polling_interval_s: 0.5 }),
    jobs: opt.jobs,
    inflight: opt.inflight,
    concurrency: opt.concurrency,
  };

  return measure(opt, out, { start: startConsumers, submit, pending });
}

let result;
try {
  result = await main();
} catch (err) {
  process.stderr.write(`${NAME}: ${err.stack || err}\n`);
}
try {
  await producer.stop({ graceful: false, wait: true });
  await consumer.stop({ graceful: false, wait: true });
  if (adminConnected && !opt.keep) await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
} catch (err) {
  process.stderr.write(`${NAME}: cleanup: ${err.message}\n`);
}
if (!result) fail(NAME, 'failed');
report(result);
process.exit(0);
