-- Host names for the findings' subjects (the instance id when a host has none).
SELECT INSTANCE_ID, HOSTNAME FROM INSTANCES
