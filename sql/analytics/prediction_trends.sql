-- Least-squares trends per instance and predicted metric, on hourly averages (as
-- Prometheus predict_linear does on a range), twice: over the whole lookback and over the
-- recent window (the last %(curve_hours)s hours) only, so growth that accelerates is seen
-- while the long fit keeps noise out. The recent window returns the cross products of a
-- small design (hours, hours², a daily harmonic); analytics/predictions.py solves its
-- normal equations for a line and for a curve (a handful of numbers per series). Returns the sums needed for each slope's standard error, so the
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
    -- The curve window's design columns: hours X, X², and one daily harmonic (S, C) so a
    -- daily cycle is not mistaken for a trend or for acceleration.
    SELECT *,
           IFF(X >= -%(curve_hours)s, 1, NULL) AS Q1,
           IFF(X >= -%(curve_hours)s, X, NULL) AS QX,
           IFF(X >= -%(curve_hours)s, X * X, NULL) AS QXX,
           IFF(X >= -%(curve_hours)s, SIN(2 * PI() * (X + 0.5) / 24), NULL) AS QS,
           IFF(X >= -%(curve_hours)s, COS(2 * PI() * (X + 0.5) / 24), NULL) AS QC,
           IFF(X >= -%(curve_hours)s, Y, NULL) AS QY
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
    -- Cross products of the curve design (1, X, X², S, C) and with Y: X'X, X'y and y'y.
    SUM(Q1) AS Q_11, SUM(QX) AS Q_1X, SUM(QXX) AS Q_1XX, SUM(QS) AS Q_1S, SUM(QC) AS Q_1C,
    SUM(QX * QX) AS Q_XX, SUM(QX * QXX) AS Q_XXX, SUM(QX * QS) AS Q_XS, SUM(QX * QC) AS Q_XC,
    SUM(QXX * QXX) AS Q_XXXX, SUM(QXX * QS) AS Q_XXS, SUM(QXX * QC) AS Q_XXC,
    SUM(QS * QS) AS Q_SS, SUM(QS * QC) AS Q_SC, SUM(QC * QC) AS Q_CC,
    SUM(QY) AS Q_1Y, SUM(QX * QY) AS Q_XY, SUM(QXX * QY) AS Q_XXY, SUM(QS * QY) AS Q_SY, SUM(QC * QY) AS Q_CY,
    SUM(QY * QY) AS Q_YY,
    MAX_BY(Y, X) AS LAST_HOUR_AVG
FROM split
GROUP BY INSTANCE_ID, METRIC
HAVING COUNT(*) >= %(min_points)s
