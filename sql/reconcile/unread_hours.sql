-- Hours of the reconciled window holding items that were neither loaded nor rejected, or
-- loaded items DynamoDB no longer has: a re-sync of each reads them again.
SELECT HOUR,
       COUNT(*) AS INSTANCES,
       SUM(GREATEST(DYNAMODB_ITEMS - LOADED_ITEMS - REJECTED_ITEMS, 0)) AS UNREAD_ITEMS,
       SUM(GREATEST(LOADED_ITEMS + REJECTED_ITEMS - DYNAMODB_ITEMS, 0)) AS EXTRA_ITEMS
FROM STG_RECONCILE_HOURS
WHERE HOUR IS NOT NULL AND DYNAMODB_ITEMS <> LOADED_ITEMS + REJECTED_ITEMS
GROUP BY HOUR
ORDER BY HOUR
