-- Live counts of active insights by type and severity, for /insights/summary.
-- Summary rows are not insights of their own, so only the three listed types are counted
-- (the same set /insights serves).
--   %(now)s  current UTC time (TIMESTAMP_NTZ text)
SELECT
    INSIGHT_TYPE,
    SEVERITY,
    COUNT(*) AS N
FROM AI_INSIGHTS
WHERE EXPIRES_AT > %(now)s::TIMESTAMP_NTZ
  AND INSIGHT_TYPE IN ('pattern', 'anomaly', 'prediction')
GROUP BY INSIGHT_TYPE, SEVERITY
