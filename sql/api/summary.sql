-- The newest active executive summary (INSIGHT_TYPE = 'summary'), if any.
--   %(now)s  current UTC time (TIMESTAMP_NTZ text)
SELECT
    INSIGHT_ID,
    DESCRIPTION,
    CREATED_AT
FROM AI_INSIGHTS
WHERE INSIGHT_TYPE = 'summary'
  AND EXPIRES_AT > %(now)s::TIMESTAMP_NTZ
ORDER BY CREATED_AT DESC, INSIGHT_ID DESC
LIMIT 1
