SELECT METRIC, COUNT(*) AS N, MIN(VALUE) AS MIN_VALUE, MAX(VALUE) AS MAX_VALUE
FROM METRICS
WHERE TS >= %(since)s::TIMESTAMP_NTZ
  AND (
    (METRIC IN ('cpu_usage', 'memory_usage', 'disk_usage') AND (VALUE < 0 OR VALUE > 100))
    OR (METRIC IN ('network_in', 'network_out', 'load_avg') AND VALUE < 0)
  )
GROUP BY METRIC
