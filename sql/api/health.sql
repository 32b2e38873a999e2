-- Reachability probe for /health: touches AI_INSIGHTS so a missing table shows up too.
--   %(probe)s  always 1 (a bind keeps every API statement on the same code path)
SELECT COUNT(*) AS N
FROM (SELECT 1 AS X FROM AI_INSIGHTS LIMIT 1)
WHERE 1 = %(probe)s
