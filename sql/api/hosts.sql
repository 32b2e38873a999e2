-- Host names of the instances an insights page names, so the page shows names, not ids.
--   %(ids)s  JSON array of INSTANCE_IDs (bound text, parsed here; never formatted into SQL)
SELECT
    INSTANCE_ID,
    HOSTNAME
FROM INSTANCES
WHERE HOSTNAME IS NOT NULL
  AND INSTANCE_ID IN (SELECT f.VALUE::VARCHAR FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(ids)s))) f)
