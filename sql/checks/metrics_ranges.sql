-- Values outside their valid range. The ranges come from the metric catalogue
-- (nephos_pipeline/metric_catalogue.py), bound as one JSON parameter:
--   %(catalogue)s  '[{"metric": "cpu_usage", "min_value": 0, "max_value": 100, ...}, ...]'
WITH catalogue AS (
    SELECT c.VALUE:metric::VARCHAR AS METRIC,
           c.VALUE:min_value::FLOAT AS MIN_VALUE,
           c.VALUE:max_value::FLOAT AS MAX_VALUE
    FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%(catalogue)s))) c
)
SELECT m.METRIC, COUNT(*) AS N, MIN(m.VALUE) AS MIN_VALUE, MAX(m.VALUE) AS MAX_VALUE
FROM METRICS m
JOIN catalogue k ON k.METRIC = m.METRIC
WHERE m.TS >= %(since)s::TIMESTAMP_NTZ
  AND (m.VALUE < k.MIN_VALUE OR m.VALUE > k.MAX_VALUE)
GROUP BY m.METRIC
