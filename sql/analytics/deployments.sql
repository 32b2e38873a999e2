-- Hosts deployed to in [start, end): root-cause context of an anomaly.
-- Parameters: start, end (TIMESTAMP_NTZ, UTC).
SELECT INSTANCE_ID, LAST_DEPLOYED_AT
FROM INSTANCES
WHERE LAST_DEPLOYED_AT >= %(start)s::TIMESTAMP_NTZ AND LAST_DEPLOYED_AT < %(end)s::TIMESTAMP_NTZ
