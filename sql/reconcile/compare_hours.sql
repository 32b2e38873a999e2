-- Items per instance and hour of the reconciled window: in DynamoDB (staged from the
-- keys-only Scan), loaded (distinct item timestamps in METRICS) and rejected (distinct item
-- keys in REJECTS, read from the raw item; a reject whose item has since loaded counts as
-- loaded). Items outside the contract's time range form one bucket per instance, HOUR NULL.
CREATE OR REPLACE TEMPORARY TABLE STG_RECONCILE_HOURS AS
WITH dynamo AS (
    SELECT INSTANCE_ID, COALESCE(HOUR, '1970-01-01'::TIMESTAMP_NTZ) AS BUCKET, SUM(ITEMS) AS ITEMS,
           BOOLOR_AGG(REGISTERED) AS REGISTERED
    FROM STG_RECONCILE_COUNTS
    GROUP BY 1, 2
),
loaded AS (
    SELECT INSTANCE_ID, DATE_TRUNC('HOUR', TS) AS BUCKET, COUNT(DISTINCT TS) AS ITEMS
    FROM METRICS
    WHERE TS >= %(window_start)s::TIMESTAMP_NTZ AND TS < %(window_end)s::TIMESTAMP_NTZ
    GROUP BY 1, 2
),
reject_keys AS (
    SELECT DISTINCT j:instance_id:S::VARCHAR AS INSTANCE_ID, TRY_TO_NUMBER(j:timestamp:N::VARCHAR) AS TS_MS
    FROM (
        SELECT TRY_PARSE_JSON(RAW_ITEM)::VARIANT AS j  -- explicit: the item is read by path, never stored
        FROM REJECTS
        WHERE SOURCE_TABLE = 'metrics'
          AND (WINDOW_START IS NULL
               OR (WINDOW_START < %(window_end)s::TIMESTAMP_NTZ AND WINDOW_END > %(window_start)s::TIMESTAMP_NTZ))
    )
),
reject_items AS (
    SELECT INSTANCE_ID,
           CASE WHEN TS_MS >= %(min_ms)s AND TS_MS < %(max_ms)s THEN TO_TIMESTAMP_NTZ(TS_MS, 3) END AS TS
    FROM reject_keys
    WHERE INSTANCE_ID IS NOT NULL AND TS_MS IS NOT NULL
),
rejected AS (
    SELECT r.INSTANCE_ID, COALESCE(DATE_TRUNC('HOUR', r.TS), '1970-01-01'::TIMESTAMP_NTZ) AS BUCKET,
           COUNT(*) AS ITEMS
    FROM reject_items r
    LEFT JOIN (SELECT DISTINCT INSTANCE_ID, TS FROM METRICS
               WHERE TS >= %(window_start)s::TIMESTAMP_NTZ AND TS < %(window_end)s::TIMESTAMP_NTZ) m
      ON m.INSTANCE_ID = r.INSTANCE_ID AND m.TS = r.TS
    WHERE m.INSTANCE_ID IS NULL
      AND (r.TS IS NULL OR (r.TS >= %(window_start)s::TIMESTAMP_NTZ AND r.TS < %(window_end)s::TIMESTAMP_NTZ))
    GROUP BY 1, 2
),
buckets AS (
    SELECT INSTANCE_ID, BUCKET FROM dynamo
    UNION SELECT INSTANCE_ID, BUCKET FROM loaded
    UNION SELECT INSTANCE_ID, BUCKET FROM rejected
)
SELECT b.INSTANCE_ID,
       NULLIF(b.BUCKET, '1970-01-01'::TIMESTAMP_NTZ) AS HOUR,
       COALESCE(d.REGISTERED, i.INSTANCE_ID IS NOT NULL) AS REGISTERED,
       COALESCE(d.ITEMS, 0) AS DYNAMODB_ITEMS,
       COALESCE(l.ITEMS, 0) AS LOADED_ITEMS,
       COALESCE(r.ITEMS, 0) AS REJECTED_ITEMS
FROM buckets b
LEFT JOIN dynamo d ON d.INSTANCE_ID = b.INSTANCE_ID AND d.BUCKET = b.BUCKET
LEFT JOIN loaded l ON l.INSTANCE_ID = b.INSTANCE_ID AND l.BUCKET = b.BUCKET
LEFT JOIN rejected r ON r.INSTANCE_ID = b.INSTANCE_ID AND r.BUCKET = b.BUCKET
LEFT JOIN (SELECT DISTINCT INSTANCE_ID FROM INSTANCES) i ON i.INSTANCE_ID = b.INSTANCE_ID
