-- The series behind the insight charts of one page, in one statement, at each chart's own
-- resolution (15 minutes for an anomaly, as the detector judged it; an hour otherwise).
--   %(specs)s  JSON array of {"k": chart key, "i": INSTANCE_ID, "m": METRIC,
--              "s": start, "e": end (naive UTC ISO text), "b": bucket length in seconds}
-- A bucket is labelled by its END and holds (end - b, end], as sql/analytics/anomaly_scores.sql
-- numbers its 15-minute ticks, so an anomaly chart's points are the detector's windows:
-- the mean of each window and its lowest and highest raw sample (the 1-minute extremes).
-- NaN and infinite values are skipped, as the analyses skip them.
WITH specs AS (
    SELECT
        f.VALUE:k::VARCHAR AS K,
        f.VALUE:i::VARCHAR AS INSTANCE_ID,
        f.VALUE:m::VARCHAR AS METRIC,
        f.VALUE:s::TIMESTAMP_NTZ AS RANGE_START,
        f.VALUE:e::TIMESTAMP_NTZ AS RANGE_END,
        f.VALUE:b::INT AS BUCKET_S
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(specs)s))) f
),
points AS (
    SELECT
        s.K,
        s.BUCKET_S,
        CEIL(DATEDIFF('second', '1970-01-01'::TIMESTAMP_NTZ, m.TS) / s.BUCKET_S) AS BUCKET_NO,
        m.VALUE
    FROM specs s
    JOIN METRICS m
      ON m.INSTANCE_ID = s.INSTANCE_ID
     AND m.METRIC = s.METRIC
     AND m.TS > s.RANGE_START
     AND m.TS <= s.RANGE_END
    WHERE ABS(m.VALUE) < 1e150
      AND m.TS > (SELECT MIN(RANGE_START) FROM specs)
      AND m.TS <= (SELECT MAX(RANGE_END) FROM specs)
)
SELECT
    K,
    DATEADD('second', BUCKET_NO * BUCKET_S, '1970-01-01'::TIMESTAMP_NTZ) AS BUCKET_END,
    AVG(VALUE) AS MEAN_VALUE,
    MIN(VALUE) AS MIN_VALUE,
    MAX(VALUE) AS MAX_VALUE,
    COUNT(*) AS N
FROM points
GROUP BY K, BUCKET_S, BUCKET_NO
ORDER BY K, BUCKET_END
