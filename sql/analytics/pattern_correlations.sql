-- Pearson correlation between every pair of metrics of one host over the window,
-- on aligned samples (same instance and timestamp).
SELECT
    a.INSTANCE_ID,
    a.METRIC AS METRIC_A,
    b.METRIC AS METRIC_B,
    CORR(a.VALUE, b.VALUE) AS R,
    COUNT(*) AS N
FROM METRICS a
JOIN METRICS b
  ON a.INSTANCE_ID = b.INSTANCE_ID AND a.TS = b.TS AND a.METRIC < b.METRIC
WHERE a.TS >= %(window_start)s::TIMESTAMP_NTZ AND a.TS < %(window_end)s::TIMESTAMP_NTZ
  AND b.TS >= %(window_start)s::TIMESTAMP_NTZ AND b.TS < %(window_end)s::TIMESTAMP_NTZ
GROUP BY a.INSTANCE_ID, a.METRIC, b.METRIC
HAVING COUNT(*) >= %(min_points)s AND ABS(CORR(a.VALUE, b.VALUE)) >= %(min_abs_r)s
