-- AI_INSIGHTS rows that break the table's rules. The known insight types come from the
-- registry (nephos_pipeline/insight_types.py), bound as a JSON array:
--   %(insight_types)s  '["pattern", "anomaly", "prediction", "summary"]'
SELECT INSIGHT_ID, INSIGHT_TYPE, SEVERITY, CONFIDENCE_SCORE, CREATED_AT, EXPIRES_AT
FROM AI_INSIGHTS
WHERE INSIGHT_TYPE NOT IN (SELECT t.VALUE::VARCHAR FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(insight_types)s))) t)
   OR SEVERITY NOT IN ('low', 'medium', 'high', 'critical')
   OR EXPIRES_AT <= CREATED_AT
   OR CONFIDENCE_SCORE < 0 OR CONFIDENCE_SCORE > 1
   OR TITLE = '' OR DESCRIPTION = ''
LIMIT 20
