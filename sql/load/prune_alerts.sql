-- Agent alerts of the window that are gone from DynamoDB are removed (batch-layer alerts stay).
DELETE FROM ALERTS
WHERE SOURCE = 'agent'
  AND CREATED_AT >= %(window_start)s::TIMESTAMP_NTZ AND CREATED_AT < %(window_end)s::TIMESTAMP_NTZ
  AND NOT EXISTS (SELECT 1 FROM LANDING_ALERTS l WHERE l.ALERT_ID = ALERTS.ALERT_ID
                  AND l.CREATED_AT >= %(window_start)s::TIMESTAMP_NTZ AND l.CREATED_AT < %(window_end)s::TIMESTAMP_NTZ)
