-- Silences: gaps in a live instance's reports longer than its usual cadence allows.
-- For each live instance (STATUS in %(live_statuses)s, the contract's JSON list), over its
-- reports since %(lookback_start)s up to %(last_tick)s:
--   * CADENCE_SECONDS: the median gap between consecutive reports (its usual cadence);
--   * every gap (LAST_REPORT -> RESUMED_AT) and the open one (newest report -> no report yet,
--     RESUMED_AT NULL) longer than THRESHOLD_SECONDS = max(%(min_silence_seconds)s,
--     %(cadence_multiple)s x cadence) that still matters: open, or resumed after
--     %(resumed_after)s (the tick before %(first_tick)s, or the oldest silence still open).
-- The Python side (analytics/silence.py) places them on the 15-minute tick grid.
--
-- Why buckets: the reports come from REPORTS_15M (sql/ddl/05_reports_15m.sql: per instance
-- and 15-minute bucket, the distinct report times' count, first and last, kept by the
-- load), not from the raw week of METRICS (a DISTINCT over 60 M rows at 1,000 instances,
-- 8-9 s of CPU a quarter). The two buckets the bounds cut (the ones holding
-- %(lookback_start)s and %(last_tick)s) are read from METRICS, so the reports are exactly
-- those of the bounds. What is exact and what is estimated:
--   * Gaps: two reports in one bucket are less than 15 minutes apart, and a silence is
--     longer than %(min_silence_seconds)s, at least 900 s (analytics/silence.py refuses
--     less), so every silence lies between a bucket's last report and the next non-empty
--     bucket's first: the gaps found are exactly the old ones.
--   * STEPS (gaps counted, for %(min_reports)s): reports - 1, exact.
--   * CADENCE_SECONDS: the median of the gaps, where the gaps inside a bucket are taken as
--     their average ((LAST_TS - FIRST_TS) / (REPORTS - 1), weighted by their number) and the
--     gaps across buckets as they are. Equal to the exact median when a host reports at a
--     regular cadence (every gap the same), and always when the cadence is 450 s or more
--     (a bucket then holds at most two reports, so its one gap is exact); it decides the
--     threshold only above 300 s (below, 3 x cadence < 900 s).
WITH live AS (
    SELECT i.INSTANCE_ID
    FROM INSTANCES i
    WHERE LOWER(i.STATUS) IN (
        SELECT LOWER(s.VALUE::VARCHAR) FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(live_statuses)s))) s
    )
),
bounds AS (
    SELECT
        CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(lookback_start)s::TIMESTAMP_NTZ) / 900000) AS first_no,
        CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, %(last_tick)s::TIMESTAMP_NTZ) / 900000) AS last_no
),
edges AS (
    -- The bucket holding lookback_start and the one holding last_tick, cut by the bounds:
    -- two 15-minute ranges of METRICS with constant bounds (so a scan prunes to them).
    SELECT
        m.INSTANCE_ID,
        CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ, m.TS) / 900000) AS BUCKET_NO,
        COUNT(DISTINCT m.TS) AS REPORTS,
        MIN(m.TS) AS FIRST_TS,
        MAX(m.TS) AS LAST_TS
    FROM (
        SELECT INSTANCE_ID, TS
        FROM METRICS
        WHERE TS >= %(lookback_start)s::TIMESTAMP_NTZ
          AND TS <= LEAST(%(last_tick)s::TIMESTAMP_NTZ, DATEADD('minute', 15 * CEIL(DATEDIFF('millisecond',
                  '1970-01-01'::TIMESTAMP_NTZ, %(lookback_start)s::TIMESTAMP_NTZ) / 900000), '1970-01-01'::TIMESTAMP_NTZ))
        UNION ALL
        SELECT INSTANCE_ID, TS
        FROM METRICS
        WHERE TS <= %(last_tick)s::TIMESTAMP_NTZ
          AND TS > GREATEST(DATEADD('minute', 15 * CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ,
                  %(lookback_start)s::TIMESTAMP_NTZ) / 900000), '1970-01-01'::TIMESTAMP_NTZ),
                  DATEADD('minute', 15 * (CEIL(DATEDIFF('millisecond', '1970-01-01'::TIMESTAMP_NTZ,
                  %(last_tick)s::TIMESTAMP_NTZ) / 900000) - 1), '1970-01-01'::TIMESTAMP_NTZ))
    ) m
    JOIN live l ON l.INSTANCE_ID = m.INSTANCE_ID
    GROUP BY m.INSTANCE_ID, BUCKET_NO
),
buckets AS (
    SELECT r.INSTANCE_ID, r.BUCKET_NO, r.REPORTS, r.FIRST_TS, r.LAST_TS
    FROM REPORTS_15M r
    JOIN live l ON l.INSTANCE_ID = r.INSTANCE_ID
    JOIN bounds ON r.BUCKET_NO > bounds.first_no AND r.BUCKET_NO < bounds.last_no
    UNION ALL
    SELECT INSTANCE_ID, BUCKET_NO, REPORTS, FIRST_TS, LAST_TS FROM edges
),
linked AS (
    -- Each non-empty bucket with the last report of the bucket just before it (NULL: that
    -- one is empty) and whether the bucket after it is empty: hash joins, not a window.
    SELECT b.INSTANCE_ID, b.BUCKET_NO, b.FIRST_TS, b.LAST_TS,
           p.LAST_TS AS PREVIOUS_LAST_TS,
           n.BUCKET_NO IS NULL AS RUN_END
    FROM buckets b
    LEFT JOIN buckets p ON p.INSTANCE_ID = b.INSTANCE_ID AND p.BUCKET_NO = b.BUCKET_NO - 1
    LEFT JOIN buckets n ON n.INSTANCE_ID = b.INSTANCE_ID AND n.BUCKET_NO = b.BUCKET_NO + 1
),
steps AS (
    -- Consecutive reports in different buckets: from a bucket's last report to the next
    -- non-empty bucket's first. Adjacent buckets are joined above; across empty buckets (a
    -- gap: few rows), a LAG over the first and last buckets of each run of non-empty ones.
    SELECT INSTANCE_ID, PREVIOUS_LAST_TS AS LAST_REPORT, FIRST_TS AS RESUMED_AT
    FROM linked
    WHERE PREVIOUS_LAST_TS IS NOT NULL
    UNION ALL
    SELECT INSTANCE_ID, LAST_REPORT, RESUMED_AT
    FROM (
        SELECT INSTANCE_ID, PREVIOUS_LAST_TS, FIRST_TS AS RESUMED_AT,
               LAG(LAST_TS) OVER (PARTITION BY INSTANCE_ID ORDER BY BUCKET_NO) AS LAST_REPORT
        FROM linked
        WHERE PREVIOUS_LAST_TS IS NULL OR RUN_END
    ) runs
    WHERE PREVIOUS_LAST_TS IS NULL AND LAST_REPORT IS NOT NULL
),
intervals AS (
    -- Gap lengths and how many gaps each stands for (see the header: cadence).
    SELECT INSTANCE_ID, DATEDIFF('second', LAST_REPORT, RESUMED_AT) AS GAP, 1 AS WEIGHT
    FROM steps
    WHERE LAST_REPORT IS NOT NULL
    UNION ALL
    SELECT INSTANCE_ID, DATEDIFF('second', FIRST_TS, LAST_TS) / (REPORTS - 1) AS GAP, REPORTS - 1 AS WEIGHT
    FROM buckets
    WHERE REPORTS > 1
),
weights AS (
    -- One row per distinct gap length (a regular host has a handful), so the ranking is short.
    SELECT INSTANCE_ID, GAP, SUM(WEIGHT) AS WEIGHT
    FROM intervals
    GROUP BY INSTANCE_ID, GAP
),
ranked AS (
    SELECT INSTANCE_ID, GAP,
           SUM(WEIGHT) OVER (PARTITION BY INSTANCE_ID ORDER BY GAP ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS UPTO,
           SUM(WEIGHT) OVER (PARTITION BY INSTANCE_ID) AS STEPS
    FROM weights
),
cadence AS (
    -- The weighted median: the mean of the gaps at ranks floor((n + 1) / 2) and floor(n / 2) + 1
    -- of the n gaps, as MEDIAN does.
    SELECT INSTANCE_ID,
           (MIN(CASE WHEN UPTO >= FLOOR((STEPS + 1) / 2) THEN GAP END)
            + MIN(CASE WHEN UPTO >= FLOOR(STEPS / 2) + 1 THEN GAP END)) / 2 AS CADENCE_SECONDS,
           MAX(STEPS) AS STEPS
    FROM ranked
    GROUP BY INSTANCE_ID
),
gaps AS (
    SELECT INSTANCE_ID, LAST_REPORT, RESUMED_AT FROM steps WHERE LAST_REPORT IS NOT NULL
    UNION ALL
    SELECT INSTANCE_ID, MAX(LAST_TS) AS LAST_REPORT, NULL AS RESUMED_AT FROM buckets GROUP BY INSTANCE_ID
),
judged AS (
    SELECT g.INSTANCE_ID, g.LAST_REPORT, g.RESUMED_AT, c.CADENCE_SECONDS,
           GREATEST(%(min_silence_seconds)s, %(cadence_multiple)s * c.CADENCE_SECONDS) AS THRESHOLD_SECONDS
    FROM gaps g
    JOIN cadence c ON c.INSTANCE_ID = g.INSTANCE_ID
    WHERE c.STEPS >= %(min_reports)s
)
SELECT INSTANCE_ID, LAST_REPORT, RESUMED_AT, CADENCE_SECONDS, THRESHOLD_SECONDS
FROM judged
WHERE DATEDIFF('second', LAST_REPORT, COALESCE(RESUMED_AT, %(last_tick)s::TIMESTAMP_NTZ)) > THRESHOLD_SECONDS
  AND (RESUMED_AT IS NULL OR RESUMED_AT > %(resumed_after)s::TIMESTAMP_NTZ)
ORDER BY INSTANCE_ID, LAST_REPORT
