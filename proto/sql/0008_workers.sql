-- no-transaction
-- 0008: the worker registry and per-minute outcome counts, for operators.
--
-- workers: one row per live worker, upserted at start and refreshed by its
-- heartbeat thread (busy slots, last_seen); a row whose last_seen is older
-- than a few lease periods is a dead worker and is deleted by the sweeper.
-- draining is set by an operator (taskwire workers drain): the worker then
-- claims nothing new but finishes what it runs.  A handful of rows: no index
-- besides the primary key.
--
-- task_outcomes: how many tasks of each tool ended in each status, per
-- minute, added by the workers in batches with their registry refresh.  The
-- status and top views read rates and the failure rate from here, never
-- from the tasks table (whose updated_at is unindexed on purpose).  Rows
-- older than an hour are deleted by the sweep (at most tools x statuses x 60
-- rows).
--
-- task_failures: the failed tasks of the last hour with their error message,
-- added by the workers with their outcome counts, for the dashboard (the
-- tasks table has no index that finds recent failures without a scan).
--
-- tasks_created_idx: operators list tasks newest first (taskwire tasks list);
-- created_at never changes, so the index keeps updates HOT.  Built
-- concurrently, so a large table keeps taking writes.
CREATE TABLE IF NOT EXISTS workers (
    id         text        PRIMARY KEY,
    host       text        NOT NULL,
    version    text        NOT NULL,
    slots      integer     NOT NULL,
    busy       integer     NOT NULL DEFAULT 0,
    tools      text[]      NOT NULL DEFAULT '{}',
    started_at timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    draining   boolean     NOT NULL DEFAULT false
);

CREATE TABLE IF NOT EXISTS task_outcomes (
    minute timestamptz NOT NULL,
    tool   text        NOT NULL,
    status text        NOT NULL,
    n      bigint      NOT NULL,
    PRIMARY KEY (minute, tool, status)
);

CREATE TABLE IF NOT EXISTS task_failures (
    task_id uuid        NOT NULL,
    tool    text        NOT NULL,
    message text,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS task_failures_at_idx ON task_failures (at);

DROP INDEX CONCURRENTLY IF EXISTS tasks_created_idx;
CREATE INDEX CONCURRENTLY tasks_created_idx ON tasks (created_at, id);
