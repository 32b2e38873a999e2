-- A high-severity anomaly found by the batch layer, recorded as an alert (SOURCE = 'batch').
MERGE INTO ALERTS t
USING (SELECT %(alert_id)s AS ALERT_ID) s
ON t.ALERT_ID = s.ALERT_ID
WHEN MATCHED THEN UPDATE SET SEVERITY = %(severity)s, VALUE = %(value)s
WHEN NOT MATCHED THEN INSERT (ALERT_ID, INSTANCE_ID, CREATED_AT, SEVERITY, METRIC, VALUE, THRESHOLD, MESSAGE, STATUS,
                              RESOLVED_AT, SOURCE, LOADED_AT)
    VALUES (%(alert_id)s, %(instance_id)s, %(created_at)s::TIMESTAMP_NTZ, %(severity)s, %(metric)s, %(value)s,
            %(threshold)s, %(message)s, 'open', NULL, 'batch', %(loaded_at)s::TIMESTAMP_NTZ)
