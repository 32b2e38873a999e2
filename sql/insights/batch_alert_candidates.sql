-- High and critical anomalies last seen in a window: the batch layer's own alerts
-- (written into ALERTS with SOURCE = 'batch' by sql/insights/merge_batch_alert.sql).
-- Silences are anomaly insights too but have no metric; they are not alerts.
--   %(insight_type)s  'anomaly'
--   %(start)s, %(end)s  the window (TIMESTAMP_NTZ text, UTC): LAST_SEEN_AT in (start, end]
SELECT FINGERPRINT, AFFECTED_INSTANCES, CREATED_AT, LAST_SEEN_AT, SEVERITY, METRIC, EVIDENCE
FROM AI_INSIGHTS
WHERE INSIGHT_TYPE = %(insight_type)s
  AND METRIC IS NOT NULL
  AND SEVERITY IN ('high', 'critical')
  AND LAST_SEEN_AT > %(start)s::TIMESTAMP_NTZ
  AND LAST_SEEN_AT <= %(end)s::TIMESTAMP_NTZ
ORDER BY LAST_SEEN_AT, FINGERPRINT
