-- `nephos doctor`: can this role create a table and MERGE into it? A temporary table, so
-- nothing is left behind. Parameters: id, v.
CREATE OR REPLACE TEMPORARY TABLE NEPHOS_DOCTOR_PROBE (ID VARCHAR, V FLOAT);
MERGE INTO NEPHOS_DOCTOR_PROBE t USING (SELECT %(id)s AS ID, %(v)s AS V) s ON t.ID = s.ID
WHEN MATCHED THEN UPDATE SET V = s.V
WHEN NOT MATCHED THEN INSERT (ID, V) VALUES (s.ID, s.V);
SELECT V FROM NEPHOS_DOCTOR_PROBE;
