-- Age of the newest METRICS row, and whether any instance is active (fleet live).
SELECT
    DATEDIFF('minute', MAX(TS), %(now)s::TIMESTAMP_NTZ) AS AGE_MINUTES,
    (SELECT COUNT(*) FROM INSTANCES WHERE STATUS = 'active') AS ACTIVE_INSTANCES
FROM METRICS
