-- Instance ids that wrote metric items in the last 7 days of data but were not in the
-- Instances table when their items were last read (reporting before registration, after
-- deregistration, or under a mistyped id). Their items are loaded; this says they arrive.
SELECT INSTANCE_ID, FOUND_BY, FIRST_TS, LAST_TS, FIRST_SEEN_AT
FROM METRIC_INSTANCE_IDS
WHERE NOT REGISTERED
  AND LAST_TS >= (SELECT DATEADD('day', -7, MAX(LAST_TS)) FROM METRIC_INSTANCE_IDS)
ORDER BY LAST_TS DESC, INSTANCE_ID
LIMIT 200
