-- 0001: the task table, the single source of truth for every task.
--
-- Columns that change while a task runs (status_message, progress, lease_until,
-- updated_at) carry no index, and the fill factor leaves room, so those
-- updates stay HOT.  The queued set has a partial index for idle workers and
-- the redispatcher.
CREATE TABLE tasks (
    id               uuid PRIMARY KEY,
    owner            text        NOT NULL,
    tool             text        NOT NULL,
    args             jsonb       NOT NULL,
    status           text        NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'input_required',
                                       'completed', 'failed', 'cancelled')),
    status_message   text,
    progress         double precision,
    progress_total   double precision,
    result           jsonb,
    error            jsonb,
    input_requests   jsonb,
    input_responses  jsonb,
    attempt          integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL DEFAULT 3,
    worker_id        text,
    lease_until      timestamptz,
    trace            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    dispatched_at    timestamptz NOT NULL DEFAULT now(),
    ttl_ms           bigint      NOT NULL CHECK (ttl_ms > 0),
    poll_interval_ms integer     NOT NULL CHECK (poll_interval_ms > 0),
    expires_at       timestamptz NOT NULL,
    CHECK ((status = 'completed') = (result IS NOT NULL)),
    CHECK ((status = 'failed') = (error IS NOT NULL))
) WITH (fillfactor = 70);

CREATE INDEX tasks_queued_idx ON tasks (created_at) WHERE status = 'queued';
CREATE INDEX tasks_running_idx ON tasks (id) WHERE status IN ('running', 'input_required');
CREATE INDEX tasks_expires_idx ON tasks (expires_at);
