-- Alerts that keep coming back: the same instance and metric alerting on several days of
-- the lookback [WINDOW_END - lookback_days, WINDOW_END).
-- Set-based over a range: one group per window end in %(window_ends)s (JSON array of
-- timestamps); each window counts only its own lookback, as a run of that window alone.
-- Parameters: window_ends (JSON), lookback_days, min_alerts, min_days.
WITH windows AS (
    SELECT w.VALUE::VARCHAR::TIMESTAMP_NTZ AS WINDOW_END,
           DATEADD(DAY, -%(lookback_days)s, w.VALUE::VARCHAR::TIMESTAMP_NTZ) AS LOOKBACK_START
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(window_ends)s))) w
)
SELECT
    w.WINDOW_END,
    a.INSTANCE_ID,
    a.METRIC,
    COUNT(*) AS ALERT_COUNT,
    COUNT(DISTINCT DATE_TRUNC('DAY', a.CREATED_AT)) AS DAYS,
    MAX_BY(a.SEVERITY, CASE a.SEVERITY WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END)
        AS MAX_SEVERITY,
    MAX_BY(a.MESSAGE, a.CREATED_AT) AS EXAMPLE_MESSAGE
FROM windows w
JOIN ALERTS a ON a.CREATED_AT >= w.LOOKBACK_START AND a.CREATED_AT < w.WINDOW_END
WHERE a.SOURCE = 'agent'
GROUP BY w.WINDOW_END, a.INSTANCE_ID, a.METRIC
HAVING COUNT(*) >= %(min_alerts)s AND COUNT(DISTINCT DATE_TRUNC('DAY', a.CREATED_AT)) >= %(min_days)s
