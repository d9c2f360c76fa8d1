-- Migration 13: a placeholder on this branch (pg-rate) for the migration of branch
-- pg-feed-bites of the same name, so that 14 follows a 13 here; at the merge, theirs is kept.
SELECT 1;
