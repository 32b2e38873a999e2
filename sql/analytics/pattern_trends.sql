-- Linear trend per instance and metric over each analysis window
-- [WINDOW_END - window_hours, WINDOW_END), on hourly averages (robust to minute noise and
-- cheap: 24 points per series).
-- A daily cycle also fits a line over any 24 hours, so the previous 24 hours' mean is
-- returned too: a real trend moves the day-over-day mean in the slope's direction, a cycle
-- does not. Slope is per hour; Python turns the sums into the slope's p-value.
--
-- Set-based over a range: one result row per window end in %(window_ends)s (a JSON array
-- of timestamps; one element = one hourly partition). Each window reads only its own hours,
-- so a range gives the same rows as running its windows one by one.
-- Parameters: window_ends (JSON), window_hours, min_points.
WITH windows AS (
    SELECT w.VALUE::VARCHAR::TIMESTAMP_NTZ AS WINDOW_END,
           DATEADD(HOUR, -%(window_hours)s, w.VALUE::VARCHAR::TIMESTAMP_NTZ) AS WINDOW_START
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(window_ends)s))) w
),
hourly AS (
    SELECT INSTANCE_ID, METRIC, HOUR_START,
           DATE_PART(EPOCH_SECOND, HOUR_START) / 3600.0 AS X,
           AVG_VALUE AS Y
    FROM METRICS_HOURLY
    WHERE HOUR_START >= (SELECT DATEADD(HOUR, -24, MIN(WINDOW_START)) FROM windows)
      AND HOUR_START < (SELECT MAX(WINDOW_END) FROM windows)
),
previous AS (
    SELECT w.WINDOW_END, h.INSTANCE_ID, h.METRIC, AVG(h.Y) AS PREV_MEAN, COUNT(*) AS PREV_N
    FROM windows w
    JOIN hourly h ON h.HOUR_START >= DATEADD(HOUR, -24, w.WINDOW_START) AND h.HOUR_START < w.WINDOW_START
    GROUP BY w.WINDOW_END, h.INSTANCE_ID, h.METRIC
)
SELECT
    w.WINDOW_END,
    h.INSTANCE_ID,
    h.METRIC,
    COUNT(*) AS N,
    REGR_SLOPE(h.Y, h.X) AS SLOPE_PER_HOUR,
    REGR_R2(h.Y, h.X) AS R2,
    REGR_SXX(h.Y, h.X) AS SXX,
    REGR_SYY(h.Y, h.X) AS SYY,
    REGR_SXY(h.Y, h.X) AS SXY,
    MIN_BY(h.Y, h.X) AS START_VALUE,
    MAX_BY(h.Y, h.X) AS END_VALUE,
    AVG(h.Y) AS MEAN_VALUE,
    ANY_VALUE(p.PREV_MEAN) AS PREV_MEAN
FROM windows w
JOIN hourly h ON h.HOUR_START >= w.WINDOW_START AND h.HOUR_START < w.WINDOW_END
JOIN previous p
  ON p.WINDOW_END = w.WINDOW_END AND p.INSTANCE_ID = h.INSTANCE_ID AND p.METRIC = h.METRIC
 AND p.PREV_N >= %(min_points)s
GROUP BY w.WINDOW_END, h.INSTANCE_ID, h.METRIC
HAVING COUNT(*) >= %(min_points)s
