-- no-transaction
-- 0005: a caller's task ids by the start of the id, without reading anyone else's rows.
--
-- completion/complete offers the caller's task ids that start with what they
-- typed: an id range of one owner.  (Their newest ids come from
-- tasks_owner_list_idx of 0004, scanned backwards.)  Neither column ever
-- changes, so updates of running tasks stay HOT.  Built concurrently, so a
-- large table keeps taking writes meanwhile; a build that failed leaves an
-- invalid index behind, which a second run drops first.
DROP INDEX CONCURRENTLY IF EXISTS tasks_owner_id_idx;
CREATE INDEX CONCURRENTLY tasks_owner_id_idx ON tasks (owner, id);
