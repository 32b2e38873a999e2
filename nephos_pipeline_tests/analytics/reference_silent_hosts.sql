-- Silences: gaps in a live instance's reports longer than its usual cadence allows.
-- For each live instance (STATUS in %(live_statuses)s, the contract's JSON list), over its
-- reports since %(lookback_start)s up to %(last_tick)s:
--   * CADENCE_SECONDS: the median gap between consecutive reports (its usual cadence);
--   * every gap (LAST_REPORT -> RESUMED_AT) and the open one (newest report -> no report yet,
--     RESUMED_AT NULL) longer than THRESHOLD_SECONDS = max(%(min_silence_seconds)s,
--     %(cadence_multiple)s x cadence) that still matters: open, or resumed after
--     %(resumed_after)s (the tick before %(first_tick)s, or the oldest silence still open).
-- The Python side (analytics/silence.py) places them on the 15-minute tick grid.
WITH live AS (
    SELECT i.INSTANCE_ID
    FROM INSTANCES i
    WHERE LOWER(i.STATUS) IN (
        SELECT LOWER(s.VALUE::VARCHAR) FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(live_statuses)s))) s
    )
),
reports AS (
    SELECT DISTINCT m.INSTANCE_ID, m.TS
    FROM METRICS m
    JOIN live l ON l.INSTANCE_ID = m.INSTANCE_ID
    WHERE m.TS >= %(lookback_start)s::TIMESTAMP_NTZ AND m.TS <= %(last_tick)s::TIMESTAMP_NTZ
),
steps AS (
    SELECT INSTANCE_ID, LAG(TS) OVER (PARTITION BY INSTANCE_ID ORDER BY TS) AS LAST_REPORT, TS AS RESUMED_AT
    FROM reports
),
cadence AS (
    SELECT INSTANCE_ID,
           MEDIAN(DATEDIFF('second', LAST_REPORT, RESUMED_AT)) AS CADENCE_SECONDS,
           COUNT(*) AS STEPS
    FROM steps
    WHERE LAST_REPORT IS NOT NULL
    GROUP BY INSTANCE_ID
),
gaps AS (
    SELECT INSTANCE_ID, LAST_REPORT, RESUMED_AT FROM steps WHERE LAST_REPORT IS NOT NULL
    UNION ALL
    SELECT INSTANCE_ID, MAX(TS) AS LAST_REPORT, NULL AS RESUMED_AT FROM reports GROUP BY INSTANCE_ID
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
