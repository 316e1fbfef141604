-- pkread.sql - one primary-key read of a task row, as tasks/get does, one pgbench
-- transaction (tests/bench/refs/pgbench-pkread).  The table holds rows 1..:rows whose id is
-- the row number in hexadecimal, zero-padded to a uuid.
\set i random(1, :rows)
SELECT status, status_message, progress, progress_total, result, error,
       created_at, updated_at, expires_at
  FROM ref_tasks
 WHERE id = lpad(to_hex(:i::bigint), 32, '0')::uuid AND owner = 'bench';
