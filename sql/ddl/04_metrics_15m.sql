-- METRICS in 15-minute buckets: what anomaly scoring reads its windows and baselines from
-- (the `buckets` CTE of sql/analytics/anomaly_scores.sql), so a tick reads up to 673
-- buckets per series instead of re-aggregating 7 days of raw 1-minute rows (10,080 points).
--
-- Bucket BUCKET_NO is the window (BUCKET_END - 15 min, BUCKET_END], numbered epoch ms /
-- 900000 rounded up, exactly as the scoring SQL numbers its ticks. One row per
-- (INSTANCE_ID, METRIC, BUCKET_NO) with data; NaN and infinite values are left out.
-- Kept by the load: every MERGE of a METRICS window re-computes the buckets that window
-- touches, late rows included (sql/load/clear_metrics_15m.sql, sql/load/bucket_metrics_15m.sql,
-- in the MERGE's transaction). Existing deployments: the history is bucketed once when this
-- table is created (nephos_pipeline/ingest/buckets.py, ``fill_history``, run by ensure_schema).
CREATE TABLE IF NOT EXISTS METRICS_15M (
    INSTANCE_ID VARCHAR NOT NULL,
    METRIC VARCHAR NOT NULL,
    BUCKET_NO BIGINT NOT NULL,
    BUCKET_END TIMESTAMP_NTZ NOT NULL,
    N BIGINT NOT NULL,                       -- points in the bucket
    S FLOAT NOT NULL,                        -- sum of values
    SS FLOAT NOT NULL,                       -- sum of squares
    BUCKET_MEAN FLOAT NOT NULL,
    BUCKET_MIN FLOAT NOT NULL,
    BUCKET_MAX FLOAT NOT NULL,
    BUCKET_LOW FLOAT NOT NULL,               -- 20th percentile (PERCENTILE_DISC)
    BUCKET_HIGH FLOAT NOT NULL,              -- 80th percentile (PERCENTILE_DISC)
    REFRESHED_AT TIMESTAMP_NTZ NOT NULL
);
