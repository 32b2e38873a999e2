-- Alerts raised by the agents in [start, end): root-cause context of an anomaly.
-- Parameters: start, end (TIMESTAMP_NTZ, UTC).
SELECT INSTANCE_ID, CREATED_AT, SEVERITY, METRIC, MESSAGE
FROM ALERTS
WHERE SOURCE = 'agent' AND CREATED_AT >= %(start)s::TIMESTAMP_NTZ AND CREATED_AT < %(end)s::TIMESTAMP_NTZ
