-- Counts of the insights active at a moment, by type and severity, for /insights/summary.
-- Summary rows are not insights of their own, so only the listed types are counted (the same
-- set /insights serves), bound as a JSON array from nephos_pipeline/insight_types.py:
--   %(listed_types)s  '["pattern", "anomaly", "prediction"]'
--   %(at)s     the moment (TIMESTAMP_NTZ text, UTC): now, or the as_of parameter
--   %(as_of)s  the as_of parameter, or NULL. With it, rows must have been created by then
--              and AI_INSIGHTS_ARCHIVE is counted too (see insights.sql).
-- A row present in both tables with the same (INSIGHT_ID, CREATED_AT) is counted once.
WITH candidates AS (
    SELECT INSIGHT_ID, INSIGHT_TYPE, SEVERITY, CREATED_AT, EXPIRES_AT
    FROM AI_INSIGHTS
    UNION ALL
    SELECT INSIGHT_ID, INSIGHT_TYPE, SEVERITY, CREATED_AT, EXPIRES_AT
    FROM AI_INSIGHTS_ARCHIVE
    WHERE %(as_of)s IS NOT NULL
),
active AS (
    SELECT DISTINCT INSIGHT_ID, CREATED_AT, INSIGHT_TYPE, SEVERITY
    FROM candidates
    WHERE EXPIRES_AT > %(at)s::TIMESTAMP_NTZ
      AND (%(as_of)s IS NULL OR CREATED_AT <= %(as_of)s::TIMESTAMP_NTZ)
      AND INSIGHT_TYPE IN (SELECT t.VALUE::VARCHAR FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(listed_types)s))) t)
)
SELECT
    INSIGHT_TYPE,
    SEVERITY,
    COUNT(*) AS N
FROM active
GROUP BY INSIGHT_TYPE, SEVERITY
