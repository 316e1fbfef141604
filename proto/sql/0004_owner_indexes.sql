-- no-transaction
-- 0004: a caller's own tasks without reading anyone else's rows.
--
-- completion/complete offers the caller's most recent task ids (owner, newest
-- first) and the ids that start with what they typed (owner, id range).  Neither
-- column ever changes, so updates of running tasks stay HOT.  Built concurrently,
-- so a large table keeps taking writes meanwhile; a build that failed leaves an
-- invalid index behind, which a second run drops first.
DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_recent_idx;
CREATE INDEX CONCURRENTLY tasks_owner_recent_idx ON tasks (owner, created_at DESC, id DESC);
DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_id_idx;
CREATE INDEX CONCURRENTLY tasks_owner_id_idx ON tasks (owner, id);
