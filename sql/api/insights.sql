-- Insights for the API and the insights page, newest first, one page at a time.
-- Every filter is a bound parameter; NULL means "no filter", so one statement serves
-- every combination and nothing is ever formatted into the SQL text.
--   %(at)s        the moment to view (TIMESTAMP_NTZ text, UTC): now, or the as_of parameter
--   %(as_of)s     the as_of parameter, or NULL. With it, only rows created by then are read,
--                 and AI_INSIGHTS_ARCHIVE is read too: a past moment's insights have often
--                 expired and been moved there since.
--   %(include_archived)s  1: also rows no longer active at %(at)s (expired, or archived);
--                 0: only rows active then (CREATED_AT <= at < EXPIRES_AT). 1 reads the archive.
--   %(listed_types)s  the listed insight types as a JSON array ('["pattern", "anomaly", ...]',
--                 from nephos_pipeline/insight_types.py); the summary type is not listed
--   %(type)s      one of the listed types, or NULL for all of them
--   %(severity)s  low | medium | high | critical, or NULL
--   %(instance)s  an element of AFFECTED_INSTANCES, or NULL
--   %(since)s     CREATED_AT >= since, or NULL
--   %(after_at)s, %(after_id)s  keyset cursor: rows strictly after (CREATED_AT, INSIGHT_ID)
--   %(limit)s     page size + 1 (the extra row tells whether there is a next page)
-- "Active at T" is CREATED_AT <= T < EXPIRES_AT. A row keeps only its latest sighting, so
-- words and evidence are those of the last run that saw it (the archive keeps no versions).
-- A row archived and later re-created from the same finding (a replayed backfill) appears
-- in both tables with the same (INSIGHT_ID, CREATED_AT): the live row wins.
-- The instance filter uses LATERAL FLATTEN rather than ARRAY_CONTAINS because the local
-- warehouse (fakesnow on DuckDB) cannot run ARRAY_CONTAINS on an ARRAY column.
WITH candidates AS (
    SELECT
        INSIGHT_ID, INSIGHT_TYPE, SEVERITY, TITLE, DESCRIPTION, RECOMMENDATIONS, CONFIDENCE_SCORE,
        AFFECTED_INSTANCES, METRIC, EVIDENCE, CREATED_AT, EXPIRES_AT,
        0 AS FROM_ARCHIVE, CAST(NULL AS TIMESTAMP_NTZ) AS ARCHIVED_AT
    FROM AI_INSIGHTS
    UNION ALL
    SELECT
        INSIGHT_ID, INSIGHT_TYPE, SEVERITY, TITLE, DESCRIPTION, RECOMMENDATIONS, CONFIDENCE_SCORE,
        AFFECTED_INSTANCES, METRIC, EVIDENCE, CREATED_AT, EXPIRES_AT,
        1 AS FROM_ARCHIVE, ARCHIVED_AT
    FROM AI_INSIGHTS_ARCHIVE
    WHERE (%(as_of)s IS NOT NULL OR %(include_archived)s = 1)
),
visible AS (
    SELECT *
    FROM candidates
    WHERE INSIGHT_TYPE IN (SELECT t.VALUE::VARCHAR FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(listed_types)s))) t)
      AND (%(include_archived)s = 1 OR EXPIRES_AT > %(at)s::TIMESTAMP_NTZ)
      AND (%(as_of)s IS NULL OR CREATED_AT <= %(as_of)s::TIMESTAMP_NTZ)
      AND (%(type)s IS NULL OR INSIGHT_TYPE = %(type)s)
      AND (%(severity)s IS NULL OR SEVERITY = %(severity)s)
      AND (%(since)s IS NULL OR CREATED_AT >= %(since)s::TIMESTAMP_NTZ)
      AND (
            %(after_at)s IS NULL
            OR CREATED_AT < %(after_at)s::TIMESTAMP_NTZ
            OR (CREATED_AT = %(after_at)s::TIMESTAMP_NTZ AND INSIGHT_ID < %(after_id)s)
          )
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY INSIGHT_ID, CREATED_AT ORDER BY FROM_ARCHIVE, ARCHIVED_AT DESC
    ) = 1
),
naming AS (
    SELECT DISTINCT v.INSIGHT_ID, v.CREATED_AT
    FROM visible v, LATERAL FLATTEN(INPUT => v.AFFECTED_INSTANCES) f
    WHERE %(instance)s IS NOT NULL
      AND f.VALUE::VARCHAR = %(instance)s
)
SELECT
    v.INSIGHT_ID,
    v.INSIGHT_TYPE,
    v.SEVERITY,
    v.TITLE,
    v.DESCRIPTION,
    v.RECOMMENDATIONS,
    v.CONFIDENCE_SCORE,
    v.AFFECTED_INSTANCES,
    v.METRIC,
    v.EVIDENCE,
    v.CREATED_AT,
    v.EXPIRES_AT,
    v.ARCHIVED_AT
FROM visible v
LEFT JOIN naming n
  ON n.INSIGHT_ID = v.INSIGHT_ID
 AND n.CREATED_AT = v.CREATED_AT
WHERE %(instance)s IS NULL OR n.INSIGHT_ID IS NOT NULL
ORDER BY v.CREATED_AT DESC, v.INSIGHT_ID DESC
LIMIT %(limit)s
