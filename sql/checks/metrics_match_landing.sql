-- METRICS must hold exactly the landed keys (the raw extract minus rejects): keys landed but
-- not loaded, and keys loaded but absent from the extract, over the lookback.
WITH landed AS (
    SELECT DISTINCT INSTANCE_ID, TS, METRIC FROM LANDING_METRICS WHERE TS >= %(since)s::TIMESTAMP_NTZ
),
loaded AS (
    SELECT INSTANCE_ID, TS, METRIC FROM METRICS WHERE TS >= %(since)s::TIMESTAMP_NTZ
)
SELECT 'landed, not loaded' AS PROBLEM, l.INSTANCE_ID, l.TS, l.METRIC
FROM landed l
LEFT JOIN loaded m ON m.INSTANCE_ID = l.INSTANCE_ID AND m.TS = l.TS AND m.METRIC = l.METRIC
WHERE m.INSTANCE_ID IS NULL
UNION ALL
SELECT 'loaded, not in the extract', m.INSTANCE_ID, m.TS, m.METRIC
FROM loaded m
LEFT JOIN landed l ON m.INSTANCE_ID = l.INSTANCE_ID AND m.TS = l.TS AND m.METRIC = l.METRIC
WHERE l.INSTANCE_ID IS NULL
LIMIT 20
