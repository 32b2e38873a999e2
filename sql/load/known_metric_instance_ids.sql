-- Instance ids known to hold metric items near one extract window; the extract queries them
-- as well as the registered ids. A day of slack after the last known item keeps an
-- unregistered instance that is still reporting in the syncs of the following hours.
-- Ranges are kept to the hour (FIRST_TS/LAST_TS are hour starts).
SELECT INSTANCE_ID, FIRST_TS, LAST_TS, REGISTERED
FROM METRIC_INSTANCE_IDS
WHERE FIRST_TS < %(window_end)s::TIMESTAMP_NTZ
  AND LAST_TS >= DATEADD('day', -1, %(window_start)s::TIMESTAMP_NTZ)
ORDER BY INSTANCE_ID
