-- 0003: retries wait before they run again, and forgotten jobs are pushed again.
--
-- not_before holds a queued task back after a lost lease or a retryable tool
-- failure (exponential backoff with jitter, computed by the writer).  The
-- redispatcher looks for queued tasks whose last push is old.
ALTER TABLE tasks ADD COLUMN not_before timestamptz NOT NULL DEFAULT '-infinity';

CREATE INDEX tasks_queued_dispatch_idx ON tasks (dispatched_at) WHERE status = 'queued';
