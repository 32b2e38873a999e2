-- The latest anomaly insight per series created before the range's first tick: its
-- incident (and the incidents of the metrics that joined it), read back so that a range
-- run continues where the previous run left off. Parameters: t (TIMESTAMP_NTZ, UTC).
SELECT EVIDENCE:incident AS INCIDENT, EVIDENCE:members AS MEMBERS
FROM AI_INSIGHTS
WHERE INSIGHT_TYPE = 'anomaly' AND CREATED_AT < %(t)s::TIMESTAMP_NTZ
QUALIFY ROW_NUMBER() OVER (PARTITION BY AFFECTED_INSTANCES[0]::VARCHAR, METRIC ORDER BY CREATED_AT DESC) = 1
