-- no-transaction
-- 0006: fair claims across owners, caps per owner on running and on live tasks.
--
-- fair_key orders the queue round robin over owners ("virtual time"): a new task
-- gets its owner's last queued key + 1, but never less than the smallest key
-- queued now, so a newcomer's first task is claimed after at most one task of
-- each owner with work queued.  It is set at insert and never changes (updates
-- of running tasks stay HOT).  The indexes:
--   tasks_fair_idx           the claim order of idle workers (queued only);
--   tasks_owner_fair_idx     an owner's last queued key (at insert) and each
--                            owner's head (the fallback claim skips over owners);
--   tasks_owner_running_idx  running tasks per owner (the running cap): small,
--                            at most the slots of all workers;
--   tasks_owner_live_idx     live tasks per owner, counted with a LIMIT at create
--                            (the cap on outstanding tasks).
-- Built concurrently, so a large table keeps taking writes; every statement can
-- run again after a failed build (an invalid index is dropped first).
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS fair_key bigint NOT NULL DEFAULT 0;
DROP INDEX CONCURRENTLY IF EXISTS tasks_fair_idx;
CREATE INDEX CONCURRENTLY tasks_fair_idx ON tasks (fair_key, created_at) WHERE status = 'queued';
DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_fair_idx;
CREATE INDEX CONCURRENTLY tasks_owner_fair_idx ON tasks (owner, fair_key) WHERE status = 'queued';
DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_running_idx;
CREATE INDEX CONCURRENTLY tasks_owner_running_idx ON tasks (owner) WHERE status = 'running';
DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_live_idx;
CREATE INDEX CONCURRENTLY tasks_owner_live_idx ON tasks (owner)
    WHERE status IN ('queued', 'running', 'input_required');
