-- A failed Dagster run, recorded where operators already look: an ALERTS row with
-- SOURCE = 'pipeline' and the run id in ALERT_ID ('dagster-run-<run id>') and MESSAGE.
-- MERGE, so a sensor tick evaluated twice for the same run leaves one row. STATUS is
-- 'resolved' (with RESOLVED_AT) when a retry of the run had already succeeded.
MERGE INTO ALERTS t
USING (SELECT %(alert_id)s AS ALERT_ID) s
ON t.ALERT_ID = s.ALERT_ID
WHEN NOT MATCHED THEN INSERT (ALERT_ID, INSTANCE_ID, CREATED_AT, SEVERITY, METRIC, VALUE, THRESHOLD, MESSAGE, STATUS,
                              RESOLVED_AT, SOURCE, LOADED_AT)
    VALUES (%(alert_id)s, NULL, %(failed_at)s::TIMESTAMP_NTZ, %(severity)s, NULL, NULL, NULL, %(message)s, %(status)s,
            %(resolved_at)s::TIMESTAMP_NTZ, 'pipeline', %(loaded_at)s::TIMESTAMP_NTZ)
