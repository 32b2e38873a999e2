-- Instance ids that wrote metric items in the lookback but were not in the Instances table
-- when their items were last read (reporting before registration, after deregistration, or
-- under a mistyped id). Their items are loaded; this says they arrive.
SELECT INSTANCE_ID, FOUND_BY, FIRST_TS, LAST_TS, FIRST_SEEN_AT
FROM METRIC_INSTANCE_IDS
WHERE NOT REGISTERED AND LAST_TS >= %(since)s::TIMESTAMP_NTZ
ORDER BY LAST_TS DESC, INSTANCE_ID
LIMIT 200
