-- The insights `nephos demo` prints: the summary first, then the newest.
SELECT INSIGHT_TYPE, SEVERITY, TITLE, CREATED_AT
FROM AI_INSIGHTS
ORDER BY CASE INSIGHT_TYPE WHEN 'summary' THEN 0 ELSE 1 END, CREATED_AT DESC
LIMIT 40
