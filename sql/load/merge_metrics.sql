-- Upsert one window of METRICS from the landing table, one row per natural key
-- (INSTANCE_ID, TS, METRIC). Unchanged rows are not touched, so a re-run changes nothing.
MERGE INTO METRICS t
USING (
    SELECT INSTANCE_ID, TS, METRIC, VALUE
    FROM LANDING_METRICS
    WHERE TS >= %(window_start)s::TIMESTAMP_NTZ AND TS < %(window_end)s::TIMESTAMP_NTZ
    QUALIFY ROW_NUMBER() OVER (PARTITION BY INSTANCE_ID, TS, METRIC ORDER BY EXTRACTED_AT DESC) = 1
) s
ON t.INSTANCE_ID = s.INSTANCE_ID AND t.TS = s.TS AND t.METRIC = s.METRIC
    -- Redundant for the result (every source row lies in the window), but it lets Snowflake
    -- prune METRICS to the window's micro-partitions instead of joining the whole history.
    AND t.TS >= %(window_start)s::TIMESTAMP_NTZ AND t.TS < %(window_end)s::TIMESTAMP_NTZ
WHEN MATCHED AND t.VALUE <> s.VALUE THEN UPDATE SET VALUE = s.VALUE, LOADED_AT = %(loaded_at)s::TIMESTAMP_NTZ
WHEN NOT MATCHED THEN INSERT (INSTANCE_ID, TS, METRIC, VALUE, LOADED_AT)
    VALUES (s.INSTANCE_ID, s.TS, s.METRIC, s.VALUE, %(loaded_at)s::TIMESTAMP_NTZ)
