-- Re-compute the 15-minute buckets ending in (from_ts, to_ts] from every METRICS row in
-- them, so a late row, or one MERGEd by the next window, gives the same bucket as one load
-- of everything would. Bounds are bucket ends (multiples of 15 minutes; NULL: unbounded):
-- bucket BUCKET_NO holds the rows of (BUCKET_END - 15 min, BUCKET_END], numbered epoch ms /
-- 900000 rounded up, as the scoring SQL numbers its ticks. The aggregates are the ones
-- anomaly scoring used to compute on every tick (sql/analytics/anomaly_scores.sql, CTE
-- `buckets`); NaN and infinite values are left out (ABS(NaN) compares greater than any
-- number). Run after sql/load/clear_metrics_15m.sql with the same bounds.
INSERT INTO METRICS_15M (INSTANCE_ID, METRIC, BUCKET_NO, BUCKET_END, N, S, SS, BUCKET_MEAN, BUCKET_MIN,
                         BUCKET_MAX, BUCKET_LOW, BUCKET_HIGH, REFRESHED_AT)
WITH grouped AS (
    SELECT
        m.INSTANCE_ID,
        m.METRIC,
        CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, m.TS) / 900000) AS bucket_no,
        COUNT(*) AS n,
        SUM(m.VALUE) AS s,
        SUM(m.VALUE * m.VALUE) AS ss,
        AVG(m.VALUE) AS bucket_mean,
        MIN(m.VALUE) AS bucket_min,
        MAX(m.VALUE) AS bucket_max,
        PERCENTILE_DISC(0.2) WITHIN GROUP (ORDER BY m.VALUE) AS bucket_low,
        PERCENTILE_DISC(0.8) WITHIN GROUP (ORDER BY m.VALUE) AS bucket_high
    FROM METRICS m
    WHERE (%(from_ts)s::TIMESTAMP_NTZ IS NULL OR m.TS > %(from_ts)s::TIMESTAMP_NTZ)
      AND (%(to_ts)s::TIMESTAMP_NTZ IS NULL OR m.TS <= %(to_ts)s::TIMESTAMP_NTZ)
      AND ABS(m.VALUE) < 1e150
    GROUP BY m.INSTANCE_ID, m.METRIC, bucket_no
)
SELECT
    INSTANCE_ID, METRIC, bucket_no, DATEADD('minute', 15 * bucket_no, '1970-01-01'::TIMESTAMP_NTZ),
    n, s, ss, bucket_mean, bucket_min, bucket_max, bucket_low, bucket_high, %(refreshed_at)s::TIMESTAMP_NTZ
FROM grouped
