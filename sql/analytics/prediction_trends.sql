-- Least-squares trends per instance and predicted metric, on hourly averages (as
-- Prometheus predict_linear does on a range), twice: over the whole lookback and over the
-- recent window only, so growth that accelerates is seen by the recent fit while the long
-- fit keeps noise out. Returns the sums needed for each slope's standard error, so the
-- crossing time gets an uncertainty range. Which metrics are predicted, and at which
-- threshold, comes from the metric catalogue (%(catalogue)s, JSON, PREDICT_AT not null).
WITH catalogue AS (
    SELECT c.VALUE:metric::VARCHAR AS METRIC, c.VALUE:predict_at::FLOAT AS THRESHOLD
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(catalogue)s))) c
    WHERE c.VALUE:predict_at::FLOAT IS NOT NULL  -- a JSON null is not an SQL NULL until cast
),
hourly AS (
    SELECT h.INSTANCE_ID, h.METRIC, k.THRESHOLD,
           (DATE_PART(EPOCH_SECOND, h.HOUR_START) - DATE_PART(EPOCH_SECOND, %(window_end)s::TIMESTAMP_NTZ)) / 3600.0 AS X,
           h.AVG_VALUE AS Y
    FROM METRICS_HOURLY h
    JOIN catalogue k ON k.METRIC = h.METRIC
    WHERE h.HOUR_START >= %(lookback_start)s::TIMESTAMP_NTZ AND h.HOUR_START < %(window_end)s::TIMESTAMP_NTZ
),
split AS (
    SELECT *, IFF(X >= -%(recent_hours)s, X, NULL) AS RX, IFF(X >= -%(recent_hours)s, Y, NULL) AS RY
    FROM hourly
)
SELECT
    INSTANCE_ID,
    METRIC,
    MAX(THRESHOLD) AS THRESHOLD,
    COUNT(*) AS N,
    REGR_SLOPE(Y, X) AS SLOPE_PER_HOUR,
    REGR_INTERCEPT(Y, X) AS VALUE_AT_END,
    REGR_R2(Y, X) AS R2,
    REGR_SXX(Y, X) AS SXX,
    REGR_SYY(Y, X) AS SYY,
    REGR_SXY(Y, X) AS SXY,
    COUNT(RX) AS RECENT_N,
    REGR_SLOPE(RY, RX) AS RECENT_SLOPE_PER_HOUR,
    REGR_INTERCEPT(RY, RX) AS RECENT_VALUE_AT_END,
    REGR_R2(RY, RX) AS RECENT_R2,
    REGR_SXX(RY, RX) AS RECENT_SXX,
    REGR_SYY(RY, RX) AS RECENT_SYY,
    REGR_SXY(RY, RX) AS RECENT_SXY,
    MAX_BY(Y, X) AS LAST_HOUR_AVG
FROM split
GROUP BY INSTANCE_ID, METRIC
HAVING COUNT(*) >= %(min_points)s
