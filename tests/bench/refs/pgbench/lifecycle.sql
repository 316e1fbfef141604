-- lifecycle.sql - one task's naive lifecycle, one pgbench transaction-script run
-- (tests/bench/refs/pgbench-lifecycle).  No BEGIN: every statement commits on its own, six
-- commits per run (insert, claim, 3 progress updates, complete) and one read.

-- 1. Submit: a queued task.  Its id is kept for the read at the end.
INSERT INTO ref_tasks (id, owner, tool, args, expires_at)
VALUES (gen_random_uuid(), 'bench', 'echo', '{"text": "hello"}', now() + interval '1 hour')
RETURNING id AS mine \gset

-- 2. Claim the oldest queued task (any client's).  The naive claim is the UPDATE in the
-- WITH; the outer SELECT only makes the answer one row in every case (\gset wants exactly
-- one): got = 0 when every queued row was taken by others first, which is rare, and then
-- this run claims and completes nothing (pgbench-lifecycle counts those runs).
WITH claimed AS (
    UPDATE ref_tasks
       SET status = 'running', attempt = attempt + 1, worker_id = 'ref-' || :client_id,
           lease_until = now() + interval '30 seconds', updated_at = now()
     WHERE id = (SELECT id FROM ref_tasks
                  WHERE status = 'queued'
                  ORDER BY created_at
                  FOR UPDATE SKIP LOCKED
                  LIMIT 1)
    RETURNING id)
SELECT (SELECT count(*) FROM claimed) AS got, (SELECT id FROM claimed) AS task \gset

\if :got
-- 3. Three progress updates.
UPDATE ref_tasks
   SET progress = 1, progress_total = 3, status_message = 'step 1 of 3', updated_at = now()
 WHERE id = :task;
UPDATE ref_tasks
   SET progress = 2, progress_total = 3, status_message = 'step 2 of 3', updated_at = now()
 WHERE id = :task;
UPDATE ref_tasks
   SET progress = 3, progress_total = 3, status_message = 'step 3 of 3', updated_at = now()
 WHERE id = :task;
-- 4. Complete, with a small result.
UPDATE ref_tasks
   SET status = 'completed', status_message = NULL, lease_until = NULL, updated_at = now(),
       result = '{"content": [{"type": "text", "text": "hello"}], "isError": false}'
 WHERE id = :task;
\endif

-- 5. Read a task by its key, as tasks/get does: the one this run submitted.
SELECT status, status_message, progress, progress_total, result, error,
       created_at, updated_at, expires_at
  FROM ref_tasks
 WHERE id = :mine;
