-- 0002: what a task needs for input requests while it runs.
--
-- client_caps keeps the capabilities the creating request declared, so a
-- tool never surfaces an input request the client cannot answer.  A worker
-- waiting for input keeps its lease (status input_required), so the lease
-- sweeper covers it too.
ALTER TABLE tasks ADD COLUMN client_caps jsonb NOT NULL DEFAULT '{}';

DROP INDEX tasks_running_idx;
CREATE INDEX tasks_leased_idx ON tasks (lease_until) WHERE status IN ('running', 'input_required');
