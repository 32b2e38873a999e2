-- Linear trend per instance and metric over the analysis window [window_start, window_end),
-- on hourly averages (robust to minute noise and cheap: 24 points per series).
-- Slope is per hour; significance via the slope's t statistic (Python turns it into p).
WITH hourly AS (
    SELECT INSTANCE_ID, METRIC, HOUR_START,
           DATE_PART(EPOCH_SECOND, HOUR_START) / 3600.0 AS X,
           AVG_VALUE AS Y
    FROM METRICS_HOURLY
    WHERE HOUR_START >= %(window_start)s::TIMESTAMP_NTZ AND HOUR_START < %(window_end)s::TIMESTAMP_NTZ
)
SELECT
    INSTANCE_ID,
    METRIC,
    COUNT(*) AS N,
    REGR_SLOPE(Y, X) AS SLOPE_PER_HOUR,
    REGR_INTERCEPT(Y, X) AS INTERCEPT,
    REGR_R2(Y, X) AS R2,
    REGR_SXX(Y, X) AS SXX,
    REGR_SYY(Y, X) AS SYY,
    REGR_SXY(Y, X) AS SXY,
    MIN_BY(Y, X) AS START_VALUE,
    MAX_BY(Y, X) AS END_VALUE,
    AVG(Y) AS MEAN_VALUE
FROM hourly
GROUP BY INSTANCE_ID, METRIC
HAVING COUNT(*) >= %(min_points)s
