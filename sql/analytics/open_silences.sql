-- Silence insights still open (reports not yet seen to resume) before a run's first tick:
-- a resume loaded late, after its tick ran, still resolves them.
SELECT FINGERPRINT, EVIDENCE:last_report::VARCHAR AS LAST_REPORT
FROM AI_INSIGHTS
WHERE INSIGHT_TYPE = 'anomaly'
  AND EVIDENCE:state::VARCHAR = 'silent'
  AND CREATED_AT < %(first_tick)s::TIMESTAMP_NTZ
