-- The newest executive summary (INSIGHT_TYPE = 'summary') active at a moment, if any.
--   %(at)s     the moment (TIMESTAMP_NTZ text, UTC): now, or the as_of parameter
--   %(as_of)s  the as_of parameter, or NULL. With it, the summary must have been created by
--              then and AI_INSIGHTS_ARCHIVE is read too (see insights.sql).
WITH candidates AS (
    SELECT INSIGHT_ID, DESCRIPTION, CREATED_AT, EXPIRES_AT, 0 AS FROM_ARCHIVE
    FROM AI_INSIGHTS
    WHERE INSIGHT_TYPE = 'summary'
    UNION ALL
    SELECT INSIGHT_ID, DESCRIPTION, CREATED_AT, EXPIRES_AT, 1 AS FROM_ARCHIVE
    FROM AI_INSIGHTS_ARCHIVE
    WHERE INSIGHT_TYPE = 'summary'
      AND %(as_of)s IS NOT NULL
)
SELECT
    INSIGHT_ID,
    DESCRIPTION,
    CREATED_AT
FROM candidates
WHERE EXPIRES_AT > %(at)s::TIMESTAMP_NTZ
  AND (%(as_of)s IS NULL OR CREATED_AT <= %(as_of)s::TIMESTAMP_NTZ)
ORDER BY CREATED_AT DESC, FROM_ARCHIVE, INSIGHT_ID DESC
LIMIT 1
