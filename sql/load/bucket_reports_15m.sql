-- Re-compute the report buckets ending in (from_ts, to_ts] (REPORTS_15M, see
-- sql/ddl/05_reports_15m.sql) from every METRICS row in them: distinct report times, the
-- first and the last. Same bounds and transaction as sql/load/bucket_metrics_15m.sql; run
-- after sql/load/clear_reports_15m.sql. Every row counts, whatever its value.
INSERT INTO REPORTS_15M (INSTANCE_ID, BUCKET_NO, BUCKET_END, REPORTS, FIRST_TS, LAST_TS, REFRESHED_AT)
WITH grouped AS (
    SELECT
        m.INSTANCE_ID,
        CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, m.TS) / 900000) AS bucket_no,
        COUNT(DISTINCT m.TS) AS reports,
        MIN(m.TS) AS first_ts,
        MAX(m.TS) AS last_ts
    FROM METRICS m
    WHERE (%(from_ts)s::TIMESTAMP_NTZ IS NULL OR m.TS > %(from_ts)s::TIMESTAMP_NTZ)
      AND (%(to_ts)s::TIMESTAMP_NTZ IS NULL OR m.TS <= %(to_ts)s::TIMESTAMP_NTZ)
    GROUP BY m.INSTANCE_ID, bucket_no
)
SELECT
    INSTANCE_ID, bucket_no, DATEADD('minute', 15 * bucket_no, '1970-01-01'::TIMESTAMP_NTZ),
    reports, first_ts, last_ts, %(refreshed_at)s::TIMESTAMP_NTZ
FROM grouped
