-- Metrics of a host with an anomaly insight open during [window_start, window_end], and its
-- direction ('above' / 'below'). Pattern analysis reads this so that a level shift, already
-- one anomaly insight, is not reported again as a rising or falling trend.
-- Parameters: window_start, window_end (TIMESTAMP_NTZ, UTC). CREATED_AT and LAST_SEEN_AT
-- let a range read once and keep, per window, the insights open during it.
SELECT
    i.AFFECTED_INSTANCES[0]::VARCHAR AS INSTANCE_ID,
    COALESCE(m.VALUE::VARCHAR, i.METRIC) AS METRIC,
    i.EVIDENCE:direction::VARCHAR AS DIRECTION,
    i.CREATED_AT,
    i.LAST_SEEN_AT
FROM AI_INSIGHTS i,
     LATERAL FLATTEN(INPUT => i.EVIDENCE:metrics, OUTER => TRUE) m
WHERE i.INSIGHT_TYPE = 'anomaly'
  AND i.CREATED_AT <= %(window_end)s::TIMESTAMP_NTZ
  AND i.LAST_SEEN_AT >= %(window_start)s::TIMESTAMP_NTZ
