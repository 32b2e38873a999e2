-- Recurring daily spikes reported by pattern analysis and active at some point in
-- (first, last]: an anomaly starting in that hour while the pattern was active is known
-- behaviour, not news. Parameters: first, last (TIMESTAMP_NTZ, UTC).
SELECT
    AFFECTED_INSTANCES[0]::VARCHAR AS INSTANCE_ID,
    EVIDENCE:hour_of_day::INT AS HOUR_OF_DAY,
    EVIDENCE:metrics AS METRICS,
    CREATED_AT,
    EXPIRES_AT
FROM AI_INSIGHTS
WHERE INSIGHT_TYPE = 'pattern' AND EVIDENCE:hour_of_day IS NOT NULL
  AND CREATED_AT <= %(last)s::TIMESTAMP_NTZ AND EXPIRES_AT > %(first)s::TIMESTAMP_NTZ
