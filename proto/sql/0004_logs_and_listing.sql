-- 0004: tool log messages kept with the task, and tasks/list by owner.
--
-- log holds the last 64 log messages a tool wrote (notifications/message
-- params without the method), oldest first; log_seq counts every message ever
-- appended, so a reader knows the sequence number of each one kept
-- (log_seq - length + 1 for the first) and never sends one twice.  Neither
-- column is indexed: heartbeats that append to them stay HOT.
--
-- tasks_owner_list_idx serves the keyset pagination of tasks/list
-- (owner, created_at, id); none of its columns ever changes.
ALTER TABLE tasks ADD COLUMN log jsonb;
ALTER TABLE tasks ADD COLUMN log_seq bigint NOT NULL DEFAULT 0;

CREATE INDEX tasks_owner_list_idx ON tasks (owner, created_at, id);
