-- Least-squares trends per instance and predicted metric, on hourly averages (as
-- Prometheus predict_linear does on a range), twice: over the whole lookback and over the
-- recent window (the last %(curve_hours)s hours) only, so growth that accelerates is seen
-- while the long fit keeps noise out. The recent window returns the cross products of a
-- small design (hours, hours², a daily harmonic); analytics/predictions.py solves its
-- normal equations for a line and for a curve (a handful of numbers per series). Returns the sums needed for each slope's standard error, so the
-- crossing time gets an uncertainty range. Which metrics are predicted, and at which
-- threshold, comes from the metric catalogue (%(catalogue)s, JSON, PREDICT_AT not null).
--
-- Set-based over a range: one row per series and window end in %(window_ends)s (a JSON
-- array of timestamps; one element = one six-hour partition). Each window reads only its
-- own lookback [WINDOW_END - lookback_hours, WINDOW_END), with hours counted from its own
-- end, so a range gives the same rows as running its windows one by one.
--
-- Shape guards (so a forecast means new, gradual growth): PRIOR_N/PRIOR_MAX are the hours
-- before the recent window and their highest hourly average; RECENT_HIGH is the highest
-- hourly average of the last quarter of the recent window; MAX_RISE and MAX_RISE_RECENT
-- are the largest rise within two hours (hourly average minus the one two hours before)
-- over the lookback and the recent window: a step, not a trend, when two hours carry most
-- of the rise (two, so a step that falls inside an hour is not split in halves). Rows with at least
-- %(min_points)s hours are returned; the long line's own minimum is applied in Python.
-- Parameters: window_ends (JSON), lookback_hours, curve_hours, min_points, catalogue.
WITH windows AS (
    SELECT w.VALUE::VARCHAR::TIMESTAMP_NTZ AS WINDOW_END,
           DATEADD(HOUR, -%(lookback_hours)s, w.VALUE::VARCHAR::TIMESTAMP_NTZ) AS LOOKBACK_START
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(window_ends)s))) w
),
catalogue AS (
    SELECT c.VALUE:metric::VARCHAR AS METRIC, c.VALUE:predict_at::FLOAT AS THRESHOLD
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(catalogue)s))) c
    WHERE c.VALUE:predict_at::FLOAT IS NOT NULL  -- a JSON null is not an SQL NULL until cast
),
hourly AS (
    SELECT w.WINDOW_END, h.INSTANCE_ID, h.METRIC, k.THRESHOLD,
           (DATE_PART(EPOCH_SECOND, h.HOUR_START) - DATE_PART(EPOCH_SECOND, w.WINDOW_END)) / 3600.0 AS X,
           h.AVG_VALUE AS Y
    FROM windows w
    JOIN METRICS_HOURLY h ON h.HOUR_START >= w.LOOKBACK_START AND h.HOUR_START < w.WINDOW_END
    JOIN catalogue k ON k.METRIC = h.METRIC
    WHERE h.HOUR_START >= (SELECT MIN(LOOKBACK_START) FROM windows)
      AND h.HOUR_START < (SELECT MAX(WINDOW_END) FROM windows)
),
split AS (
    -- The curve window's design columns: hours X, X², and one daily harmonic (S, C) so a
    -- daily cycle is not mistaken for a trend or for acceleration.
    SELECT WINDOW_END, INSTANCE_ID, METRIC, THRESHOLD, X, Y,
           Y - LAG(Y, 2) OVER (PARTITION BY WINDOW_END, INSTANCE_ID, METRIC ORDER BY X) AS RISE,
           IFF(X >= -%(curve_hours)s, 1, NULL) AS Q1,
           IFF(X >= -%(curve_hours)s, X, NULL) AS QX,
           IFF(X >= -%(curve_hours)s, X * X, NULL) AS QXX,
           IFF(X >= -%(curve_hours)s, SIN(2 * PI() * (X + 0.5) / 24), NULL) AS QS,
           IFF(X >= -%(curve_hours)s, COS(2 * PI() * (X + 0.5) / 24), NULL) AS QC,
           IFF(X >= -%(curve_hours)s, Y, NULL) AS QY
    FROM hourly
)
SELECT
    WINDOW_END,
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
    MAX_BY(Y, X) AS LAST_HOUR_AVG,
    COUNT_IF(X < -%(curve_hours)s) AS PRIOR_N,
    MAX(IFF(X < -%(curve_hours)s, Y, NULL)) AS PRIOR_MAX,
    MAX(IFF(X >= -%(curve_hours)s / 4.0, Y, NULL)) AS RECENT_HIGH,
    MAX(RISE) AS MAX_RISE,
    MAX(IFF(X > -%(curve_hours)s + 1, RISE, NULL)) AS MAX_RISE_RECENT
FROM split
GROUP BY WINDOW_END, INSTANCE_ID, METRIC
HAVING COUNT(*) >= %(min_points)s
