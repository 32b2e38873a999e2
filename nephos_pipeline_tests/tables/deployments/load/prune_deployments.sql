-- Deployments of the window that are gone from DynamoDB are removed.
DELETE FROM DEPLOYMENTS
WHERE DEPLOYED_AT >= %(window_start)s::TIMESTAMP_NTZ AND DEPLOYED_AT < %(window_end)s::TIMESTAMP_NTZ
  AND NOT EXISTS (SELECT 1 FROM LANDING_DEPLOYMENTS l WHERE l.DEPLOYMENT_ID = DEPLOYMENTS.DEPLOYMENT_ID
                  AND l.DEPLOYED_AT >= %(window_start)s::TIMESTAMP_NTZ AND l.DEPLOYED_AT < %(window_end)s::TIMESTAMP_NTZ)
