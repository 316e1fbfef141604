-- ref_tasks.sql - the task table of the pgbench references (tests/bench/refs/pgbench-*),
-- created in the reference's own schema (the search_path).  Laid out like taskwire's tasks
-- table (proto/sql/0001_tasks.sql): uuid key, owner, tool, jsonb arguments and result,
-- status, progress, lease, timestamps, fill factor 70 so that progress updates can stay HOT,
-- and a partial index on the queued rows for the claim.  A naive queue's table: no further
-- index, no trigger.
CREATE TABLE ref_tasks (
    id             uuid PRIMARY KEY,
    owner          text        NOT NULL,
    tool           text        NOT NULL,
    args           jsonb       NOT NULL,
    status         text        NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    status_message text,
    progress       double precision,
    progress_total double precision,
    result         jsonb,
    error          jsonb,
    attempt        integer     NOT NULL DEFAULT 0,
    worker_id      text,
    lease_until    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
) WITH (fillfactor = 70);

CREATE INDEX ref_tasks_queued_idx ON ref_tasks (created_at) WHERE status = 'queued';
