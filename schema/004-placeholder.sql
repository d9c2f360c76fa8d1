-- Migration 4: kept for the store rework (branch i16-store), which merges its own 004 here;
-- this placeholder changes nothing and goes when that one arrives.
SELECT 1;
