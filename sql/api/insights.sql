-- Active insights for the API and the insights page, newest first, one page at a time.
-- Every filter is a bound parameter; NULL means "no filter", so one statement serves
-- every combination and nothing is ever formatted into the SQL text.
--   %(now)s       current UTC time (TIMESTAMP_NTZ text): only rows with EXPIRES_AT > now
--   %(type)s      pattern | anomaly | prediction, or NULL for all three
--   %(severity)s  low | medium | high | critical, or NULL
--   %(instance)s  an element of AFFECTED_INSTANCES, or NULL
--   %(since)s     CREATED_AT >= since, or NULL
--   %(after_at)s, %(after_id)s  keyset cursor: rows strictly after (CREATED_AT, INSIGHT_ID)
--   %(limit)s     page size + 1 (the extra row tells whether there is a next page)
-- The instance filter uses LATERAL FLATTEN rather than ARRAY_CONTAINS because the local
-- warehouse (fakesnow on DuckDB) cannot run ARRAY_CONTAINS on an ARRAY column.
SELECT
    INSIGHT_ID,
    INSIGHT_TYPE,
    SEVERITY,
    TITLE,
    DESCRIPTION,
    RECOMMENDATIONS,
    CONFIDENCE_SCORE,
    AFFECTED_INSTANCES,
    METRIC,
    EVIDENCE,
    CREATED_AT,
    EXPIRES_AT
FROM AI_INSIGHTS
WHERE EXPIRES_AT > %(now)s::TIMESTAMP_NTZ
  AND INSIGHT_TYPE IN ('pattern', 'anomaly', 'prediction')
  AND (%(type)s IS NULL OR INSIGHT_TYPE = %(type)s)
  AND (%(severity)s IS NULL OR SEVERITY = %(severity)s)
  AND (%(since)s IS NULL OR CREATED_AT >= %(since)s::TIMESTAMP_NTZ)
  AND (
        %(instance)s IS NULL
        OR INSIGHT_ID IN (
            SELECT a.INSIGHT_ID
            FROM AI_INSIGHTS a, LATERAL FLATTEN(INPUT => a.AFFECTED_INSTANCES) f
            WHERE a.EXPIRES_AT > %(now)s::TIMESTAMP_NTZ
              AND f.VALUE::VARCHAR = %(instance)s
        )
      )
  AND (
        %(after_at)s IS NULL
        OR CREATED_AT < %(after_at)s::TIMESTAMP_NTZ
        OR (CREATED_AT = %(after_at)s::TIMESTAMP_NTZ AND INSIGHT_ID < %(after_id)s)
      )
ORDER BY CREATED_AT DESC, INSIGHT_ID DESC
LIMIT %(limit)s
