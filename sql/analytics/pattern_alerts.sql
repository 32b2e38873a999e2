-- Alerts that keep coming back: the same instance and metric alerting on several days.
SELECT
    INSTANCE_ID,
    METRIC,
    COUNT(*) AS ALERT_COUNT,
    COUNT(DISTINCT DATE_TRUNC('DAY', CREATED_AT)) AS DAYS,
    MAX_BY(SEVERITY, CASE SEVERITY WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END)
        AS MAX_SEVERITY,
    MAX_BY(MESSAGE, CREATED_AT) AS EXAMPLE_MESSAGE
FROM ALERTS
WHERE SOURCE = 'agent'
  AND CREATED_AT >= %(lookback_start)s::TIMESTAMP_NTZ AND CREATED_AT < %(window_end)s::TIMESTAMP_NTZ
GROUP BY INSTANCE_ID, METRIC
HAVING COUNT(*) >= %(min_alerts)s AND COUNT(DISTINCT DATE_TRUNC('DAY', CREATED_AT)) >= %(min_days)s
