-- no-transaction
-- 0010: fewer index entries written per task, and heartbeats that stay HOT.
--
-- Every claim and every outcome moves a row to another status, which PostgreSQL
-- 15 cannot do as a HOT update: each one adds an entry to every index whose
-- predicate the new row version matches, and to every full index.  A task wrote
-- 23 index entries (create 10, claim 8, outcome 5); with these changes it
-- writes 18, and a lease renewal or progress report, which changes only
-- lease_until, progress, status_message, log and updated_at, no longer touches
-- an indexed column, so it can be a HOT update (no index entry at all):
--   tasks_expires_idx     (all rows) becomes tasks_done_expires_idx, on the rows
--                         the expiry sweep deletes only (not queued, not running);
--   tasks_owner_live_idx  (queued, running, input_required by owner) is dropped:
--                         an owner's live tasks are counted through
--                         tasks_owner_fair_idx (queued), tasks_owner_running_idx
--                         (running) and the new tasks_owner_input_idx (rows waiting
--                         for input, few);
--   tasks_leased_idx      (lease_until of running rows) is dropped: the lease
--                         sweep reads the running rows through
--                         tasks_owner_running_idx (at most the slots of all
--                         workers); only running rows hold a lease.
-- Built concurrently; every statement can run again after a failed build.
DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_input_idx;
CREATE INDEX CONCURRENTLY tasks_owner_input_idx ON tasks (owner) WHERE status = 'input_required';
DROP INDEX CONCURRENTLY IF EXISTS tasks_done_expires_idx;
CREATE INDEX CONCURRENTLY tasks_done_expires_idx ON tasks (expires_at)
    WHERE status NOT IN ('queued', 'running');
DROP INDEX CONCURRENTLY IF EXISTS tasks_expires_idx;
DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_live_idx;
DROP INDEX CONCURRENTLY IF EXISTS tasks_leased_idx;
