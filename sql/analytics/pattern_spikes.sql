-- Recurring daily spikes: an hour of day whose average stands above its neighbouring
-- hours (two either side), on several of the last days. Comparing with neighbours rather
-- than with the day's median keeps an ordinary daily cycle from counting as a spike.
-- Which metrics are percentages comes from the metric catalogue (%(catalogue)s, JSON):
-- for them the excess is in percentage points, for the others it is relative.
WITH catalogue AS (
    SELECT c.VALUE:metric::VARCHAR AS METRIC, c.VALUE:is_percent::BOOLEAN AS IS_PERCENT
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(catalogue)s))) c
),
hourly AS (
    SELECT INSTANCE_ID, METRIC, HOUR_START, AVG_VALUE
    FROM METRICS_HOURLY
    WHERE HOUR_START >= DATEADD(HOUR, -2, %(lookback_start)s::TIMESTAMP_NTZ)
      AND HOUR_START < DATEADD(HOUR, 2, %(window_end)s::TIMESTAMP_NTZ)
      AND HOUR_START < %(window_end)s::TIMESTAMP_NTZ
),
neighbours AS (
    SELECT
        INSTANCE_ID, METRIC, HOUR_START, AVG_VALUE,
        (LAG(AVG_VALUE, 2) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START)
         + LAG(AVG_VALUE, 1) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START)
         + LEAD(AVG_VALUE, 1) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START)
         + LEAD(AVG_VALUE, 2) OVER (PARTITION BY INSTANCE_ID, METRIC ORDER BY HOUR_START)) / 4.0 AS NEIGHBOUR_AVG
    FROM hourly
),
elevated AS (
    SELECT
        n.INSTANCE_ID, n.METRIC, HOUR(n.HOUR_START) AS HOUR_OF_DAY, DATE_TRUNC('DAY', n.HOUR_START) AS DAY_START,
        n.AVG_VALUE - n.NEIGHBOUR_AVG AS EXCESS
    FROM neighbours n
    LEFT JOIN catalogue k ON k.METRIC = n.METRIC
    WHERE n.HOUR_START >= %(lookback_start)s::TIMESTAMP_NTZ
      AND n.NEIGHBOUR_AVG IS NOT NULL
      AND CASE
            WHEN COALESCE(k.IS_PERCENT, FALSE)
                THEN n.AVG_VALUE - n.NEIGHBOUR_AVG >= %(min_excess_pct)s      -- percentage points
            ELSE n.AVG_VALUE - n.NEIGHBOUR_AVG >= GREATEST(%(min_excess_abs)s, %(min_excess_rel)s * ABS(n.NEIGHBOUR_AVG))
          END
)
SELECT
    INSTANCE_ID, METRIC, HOUR_OF_DAY,
    COUNT(DISTINCT DAY_START) AS DAYS_ELEVATED,
    AVG(EXCESS) AS MEAN_EXCESS,
    MAX(DAY_START) AS LAST_DAY
FROM elevated
GROUP BY INSTANCE_ID, METRIC, HOUR_OF_DAY
HAVING COUNT(DISTINCT DAY_START) >= %(min_days)s
