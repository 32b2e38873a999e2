-- Which version of the DDL (a hash of sql/ddl and the other schema folders) this warehouse
-- has applied, so that ensure_schema runs the DDL once per version. Statements, in order:
-- create the bookkeeping table, ask whether this version is applied, record it.
-- Parameters: h (the schema hash).
CREATE TABLE IF NOT EXISTS NEPHOS_SCHEMA_VERSION (SCHEMA_HASH VARCHAR, APPLIED_AT TIMESTAMP_NTZ);
SELECT COUNT(*) FROM NEPHOS_SCHEMA_VERSION WHERE SCHEMA_HASH = %(h)s;
INSERT INTO NEPHOS_SCHEMA_VERSION VALUES (%(h)s, SYSDATE());
