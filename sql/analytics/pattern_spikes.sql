-- Recurring daily spikes: an hour of day whose average stands above its neighbouring
-- hours (two either side), on several of the last days. Comparing with neighbours rather
-- than with the day's median keeps an ordinary daily cycle from counting as a spike.
-- Which metrics are percentages comes from the metric catalogue (%(catalogue)s, JSON):
-- for them the excess is in percentage points, for the others it is relative.
--
-- Set-based over a range: one group per window end in %(window_ends)s (JSON array of
-- timestamps). A window sees the hours in [WINDOW_END - lookback_days - 2 h, WINDOW_END);
-- an hour's neighbours are the two rows before and after it among those hours. The
-- neighbours are computed once over the whole range with the neighbours' own hours kept
-- (FIRST_HOUR, LAST_HOUR), and a window counts an hour only when all four neighbours lie
-- inside what that window sees: exactly the rows a run of that window alone gives.
-- Parameters: window_ends (JSON), lookback_days, catalogue, min_days, min_excess_abs,
-- min_excess_rel, min_excess_pct.
WITH windows AS (
    SELECT w.VALUE::VARCHAR::TIMESTAMP_NTZ AS WINDOW_END,
           DATEADD(DAY, -%(lookback_days)s, w.VALUE::VARCHAR::TIMESTAMP_NTZ) AS LOOKBACK_START
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(window_ends)s))) w
),
catalogue AS (
    SELECT c.VALUE:metric::VARCHAR AS METRIC, c.VALUE:is_percent::BOOLEAN AS IS_PERCENT
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(catalogue)s))) c
),
hourly AS (
    SELECT INSTANCE_ID, METRIC, HOUR_START, AVG_VALUE
    FROM METRICS_HOURLY
    WHERE HOUR_START >= (SELECT DATEADD(HOUR, -2, MIN(LOOKBACK_START)) FROM windows)
      AND HOUR_START < (SELECT MAX(WINDOW_END) FROM windows)
),
neighbours AS (
    SELECT
        INSTANCE_ID, METRIC, HOUR_START, AVG_VALUE,
        LAG(HOUR_START, 2) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START) AS FIRST_HOUR,
        LEAD(HOUR_START, 2) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START) AS LAST_HOUR,
        (LAG(AVG_VALUE, 2) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START)
         + LAG(AVG_VALUE, 1) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START)
         + LEAD(AVG_VALUE, 1) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START)
         + LEAD(AVG_VALUE, 2) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START)) / 4.0 AS NEIGHBOUR_AVG
    FROM hourly
),
elevated AS (
    SELECT
        n.INSTANCE_ID, n.METRIC, n.HOUR_START, n.FIRST_HOUR, n.LAST_HOUR,
        HOUR(n.HOUR_START) AS HOUR_OF_DAY, DATE_TRUNC('DAY', n.HOUR_START) AS DAY_START,
        n.AVG_VALUE - n.NEIGHBOUR_AVG AS EXCESS
    FROM neighbours n
    LEFT JOIN catalogue k ON k.METRIC = n.METRIC
    WHERE n.NEIGHBOUR_AVG IS NOT NULL
      AND CASE
            WHEN COALESCE(k.IS_PERCENT, FALSE)
                THEN n.AVG_VALUE - n.NEIGHBOUR_AVG >= %(min_excess_pct)s      -- percentage points
            ELSE n.AVG_VALUE - n.NEIGHBOUR_AVG >= GREATEST(%(min_excess_abs)s, %(min_excess_rel)s * ABS(n.NEIGHBOUR_AVG))
          END
)
SELECT
    w.WINDOW_END, e.INSTANCE_ID, e.METRIC, e.HOUR_OF_DAY,
    COUNT(DISTINCT e.DAY_START) AS DAYS_ELEVATED,
    AVG(e.EXCESS) AS MEAN_EXCESS,
    MAX(e.DAY_START) AS LAST_DAY
FROM windows w
JOIN elevated e
  ON e.HOUR_START >= w.LOOKBACK_START
 AND e.FIRST_HOUR >= DATEADD(HOUR, -2, w.LOOKBACK_START)
 AND e.LAST_HOUR < w.WINDOW_END
GROUP BY w.WINDOW_END, e.INSTANCE_ID, e.METRIC, e.HOUR_OF_DAY
HAVING COUNT(DISTINCT e.DAY_START) >= %(min_days)s
