-- 0009: autovacuum and ANALYZE that keep up with a queue.
--
-- Every task is inserted, claimed and finished within seconds, so the partial
-- indexes on live statuses fill with entries of rows that have moved on, and
-- the planner's idea of how many rows are queued swings with the load.  With
-- the defaults (20 % of the table changed before a vacuum, 10 % before an
-- ANALYZE), a backlog that builds up in a minute was planned as an empty queue:
-- a fair claim sorted every live row (5 ms) instead of reading the head of
-- tasks_fair_idx (0.1 ms).  Here both run after a fixed number of changed rows,
-- whatever the table's size, and vacuum is not throttled on this table.  The
-- server-wide autovacuum_naptime (default 1 min) still bounds how soon they
-- start: README "Operating it" recommends 10 s or less for taskwire's database.
ALTER TABLE tasks SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 5000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 2000,
    autovacuum_vacuum_cost_delay = 0
);
