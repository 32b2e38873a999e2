-- The (INSTANCE_ID, METRIC) series with data in the windows of [range_start, range_end]:
-- the rows anomaly scoring can return. The anomaly analysis cuts a long range or a large
-- fleet into chunks of these series (nephos_pipeline/analytics/anomaly/chunks.py), so the
-- memory of one scoring statement is bounded whatever the range and the fleet.
--
-- Parameters: range_start, range_end (TIMESTAMP_NTZ, UTC).
SELECT DISTINCT m.INSTANCE_ID AS instance_id, m.METRIC AS metric
FROM METRICS m
WHERE m.TS > DATEADD('minute', -15, %(range_start)s::TIMESTAMP_NTZ)
  AND m.TS <= %(range_end)s::TIMESTAMP_NTZ
ORDER BY instance_id, metric
