-- Items deleted from DynamoDB leave the window's landing rows; remove them from METRICS
-- too, so the window matches its source exactly.
DELETE FROM METRICS
WHERE TS >= %(window_start)s::TIMESTAMP_NTZ AND TS < %(window_end)s::TIMESTAMP_NTZ
  AND NOT EXISTS (
    SELECT 1 FROM LANDING_METRICS l
    WHERE l.INSTANCE_ID = METRICS.INSTANCE_ID AND l.TS = METRICS.TS AND l.METRIC = METRICS.METRIC
      AND l.TS >= %(window_start)s::TIMESTAMP_NTZ AND l.TS < %(window_end)s::TIMESTAMP_NTZ
  )
