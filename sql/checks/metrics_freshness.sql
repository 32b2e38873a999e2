-- Per live instance: its newest METRICS row and how many minutes old it is at %(now)s
-- (NULL when it has none since %(since)s). Which STATUS values mean "live, should report"
-- is defined by the data contract (LIVE_INSTANCE_STATUSES in nephos_pipeline/ingest/contract.py),
-- bound as a JSON list: %(live_statuses)s = '["running", "active"]'.
WITH live AS (
    SELECT i.INSTANCE_ID, i.HOSTNAME, i.STATUS, i.CREATED_AT
    FROM INSTANCES i
    WHERE LOWER(i.STATUS) IN (
        SELECT LOWER(s.VALUE::VARCHAR) FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(live_statuses)s))) s
    )
),
latest AS (
    SELECT INSTANCE_ID, MAX(TS) AS LAST_TS
    FROM METRICS
    WHERE TS >= %(since)s::TIMESTAMP_NTZ
    GROUP BY INSTANCE_ID
)
SELECT
    l.INSTANCE_ID,
    l.HOSTNAME,
    l.STATUS,
    l.CREATED_AT,
    m.LAST_TS,
    DATEDIFF('minute', m.LAST_TS, %(now)s::TIMESTAMP_NTZ) AS AGE_MINUTES
FROM live l
LEFT JOIN latest m ON m.INSTANCE_ID = l.INSTANCE_ID
ORDER BY l.INSTANCE_ID
