-- Linear trend per instance and metric over the analysis window [window_start, window_end),
-- on hourly averages (robust to minute noise and cheap: 24 points per series).
-- A daily cycle also fits a line over any 24 hours, so the previous 24 hours' mean is
-- returned too: a real trend moves the day-over-day mean in the slope's direction, a cycle
-- does not. Slope is per hour; Python turns the sums into the slope's p-value.
WITH hourly AS (
    SELECT INSTANCE_ID, METRIC, HOUR_START,
           DATE_PART(EPOCH_SECOND, HOUR_START) / 3600.0 AS X,
           AVG_VALUE AS Y
    FROM METRICS_HOURLY
    WHERE HOUR_START >= %(window_start)s::TIMESTAMP_NTZ AND HOUR_START < %(window_end)s::TIMESTAMP_NTZ
),
previous AS (
    SELECT INSTANCE_ID, METRIC, AVG(AVG_VALUE) AS PREV_MEAN, COUNT(*) AS PREV_N
    FROM METRICS_HOURLY
    WHERE HOUR_START >= DATEADD(HOUR, -24, %(window_start)s::TIMESTAMP_NTZ)
      AND HOUR_START < %(window_start)s::TIMESTAMP_NTZ
    GROUP BY INSTANCE_ID, METRIC
)
SELECT
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
FROM hourly h
JOIN previous p ON p.INSTANCE_ID = h.INSTANCE_ID AND p.METRIC = h.METRIC AND p.PREV_N >= %(min_points)s
GROUP BY h.INSTANCE_ID, h.METRIC
HAVING COUNT(*) >= %(min_points)s
