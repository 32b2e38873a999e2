-- Hourly means per instance and metric in [start, end), for the findings' charts.
-- Parameters: start, end (TIMESTAMP_NTZ, UTC); ids (JSON array of INSTANCE_IDs, or NULL
-- for every host: a large fleet with a few findings does not read every host's week).
SELECT INSTANCE_ID, METRIC, HOUR_START, AVG_VALUE
FROM METRICS_HOURLY
WHERE HOUR_START >= %(start)s::TIMESTAMP_NTZ AND HOUR_START < %(end)s::TIMESTAMP_NTZ
  AND (%(ids)s IS NULL OR INSTANCE_ID IN (SELECT f.VALUE::VARCHAR FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(ids)s))) f))
