-- Reports per instance in 15-minute buckets: what the silence check reads
-- (sql/analytics/silent_hosts.sql), so it finds gaps and learns a host's cadence from about
-- 672 rows per host and week instead of every raw METRICS row of the week (a DISTINCT over
-- 60 M rows at 1,000 instances, 8-9 s of CPU per quarter on the embedded warehouse).
--
-- A report is a distinct TS of the instance in METRICS (any metric, any value: a NaN is
-- still a report). Bucket BUCKET_NO holds the reports of (BUCKET_END - 15 min, BUCKET_END],
-- numbered epoch ms / 900000 rounded up, as METRICS_15M is. Kept by the load with
-- METRICS_15M (sql/load/clear_reports_15m.sql, sql/load/bucket_reports_15m.sql, in the
-- MERGE's transaction); existing deployments get their history bucketed once when this
-- table is created (nephos_pipeline/ingest/buckets.py, ``fill_history``).
CREATE TABLE IF NOT EXISTS REPORTS_15M (
    INSTANCE_ID VARCHAR NOT NULL,
    BUCKET_NO BIGINT NOT NULL,
    BUCKET_END TIMESTAMP_NTZ NOT NULL,
    REPORTS BIGINT NOT NULL,                 -- distinct report times in the bucket
    FIRST_TS TIMESTAMP_NTZ NOT NULL,         -- its first report
    LAST_TS TIMESTAMP_NTZ NOT NULL,          -- its last report
    REFRESHED_AT TIMESTAMP_NTZ NOT NULL
);
