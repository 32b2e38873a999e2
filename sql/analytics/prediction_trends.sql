-- Least-squares trend per instance and bounded metric over the lookback, on hourly
-- averages (as Prometheus predict_linear does on a range). Returns the sums needed for
-- the slope's standard error, so the crossing time gets an uncertainty range.
WITH hourly AS (
    SELECT INSTANCE_ID, METRIC,
           (DATE_PART(EPOCH_SECOND, HOUR_START) - DATE_PART(EPOCH_SECOND, %(window_end)s::TIMESTAMP_NTZ)) / 3600.0 AS X,
           AVG_VALUE AS Y
    FROM METRICS_HOURLY
    WHERE HOUR_START >= %(lookback_start)s::TIMESTAMP_NTZ AND HOUR_START < %(window_end)s::TIMESTAMP_NTZ
      AND METRIC IN ('disk_usage', 'memory_usage')
)
SELECT
    INSTANCE_ID,
    METRIC,
    COUNT(*) AS N,
    REGR_SLOPE(Y, X) AS SLOPE_PER_HOUR,
    REGR_INTERCEPT(Y, X) AS VALUE_AT_END,
    REGR_R2(Y, X) AS R2,
    REGR_SXX(Y, X) AS SXX,
    REGR_SYY(Y, X) AS SYY,
    REGR_SXY(Y, X) AS SXY,
    MAX_BY(Y, X) AS LAST_HOUR_AVG
FROM hourly
GROUP BY INSTANCE_ID, METRIC
HAVING COUNT(*) >= %(min_points)s
