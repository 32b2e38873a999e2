-- One-time account setup, run by a DBA (ACCOUNTADMIN or SYSADMIN + SECURITYADMIN) in Snowsight.
-- An XSMALL warehouse that suspends after 30 seconds idle (the seed said 60; see below).
-- The pipeline then connects as NEPHOS_PIPELINE with role NEPHOS_PIPELINE_ROLE and creates
-- its own tables and views (sql/ddl, sql/views) on first run.

USE ROLE SYSADMIN;

CREATE DATABASE IF NOT EXISTS NEPHOS;
CREATE SCHEMA IF NOT EXISTS NEPHOS.PUBLIC;

-- AUTO_SUSPEND = 30: the work runs every 15 minutes, each quarter's runs back to back on one
-- resume (orchestration/schedules.py), so the warehouse is idle ~14 minutes between quarters
-- whatever the setting; every second it waits before suspending is billed. Snowflake bills a
-- resume at least 60 s and checks for idle warehouses about every 30 s (CREATE WAREHOUSE
-- docs: values under 30, or not a multiple of 30, are not honoured exactly), so 30 is the
-- lowest value that means what it says. Measured (docs/benchmarks.md, "The Snowflake bill"):
-- 100 instances, about 1.7 credits a day instead of about 2.4 with 60. What it costs: a gap
-- of more than 30 s inside a quarter's work (a slow run start) is a second resume (another
-- 60 s minimum), and the warehouse's local disk cache is dropped sooner (here it is dropped
-- between quarters with 60 too). To keep the seed's behaviour: ALTER WAREHOUSE NEPHOS_WH SET
-- AUTO_SUSPEND = 60;
CREATE WAREHOUSE IF NOT EXISTS NEPHOS_WH
  WAREHOUSE_SIZE = 'XSMALL'
  AUTO_SUSPEND = 30
  AUTO_RESUME = TRUE
  INITIALLY_SUSPENDED = TRUE
  COMMENT = 'Nephos batch layer';

USE ROLE SECURITYADMIN;

CREATE ROLE IF NOT EXISTS NEPHOS_PIPELINE_ROLE;
CREATE ROLE IF NOT EXISTS NEPHOS_READER_ROLE;

-- Least privilege for the pipeline: use the warehouse, create (and so own) its objects in one
-- schema. Ownership of what it creates covers its SELECT/INSERT/UPDATE/DELETE on the tables,
-- CREATE OR REPLACE of the rollup views and READ/WRITE on the load stage. Exactly what the
-- statements it sends need (nephos_pipeline_tests/warehouse/test_grants.py).
GRANT USAGE ON WAREHOUSE NEPHOS_WH TO ROLE NEPHOS_PIPELINE_ROLE;
GRANT USAGE ON DATABASE NEPHOS TO ROLE NEPHOS_PIPELINE_ROLE;
GRANT USAGE ON SCHEMA NEPHOS.PUBLIC TO ROLE NEPHOS_PIPELINE_ROLE;
GRANT CREATE TABLE, CREATE VIEW, CREATE STAGE ON SCHEMA NEPHOS.PUBLIC TO ROLE NEPHOS_PIPELINE_ROLE;
-- Cortex: the LLM narratives call AI_COMPLETE / SNOWFLAKE.CORTEX.COMPLETE (NEPHOS_LLM=cortex only).
GRANT DATABASE ROLE SNOWFLAKE.CORTEX_USER TO ROLE NEPHOS_PIPELINE_ROLE;

-- Read-only role for the insights API (nephos serve): SELECT on tables, nothing else.
GRANT USAGE ON WAREHOUSE NEPHOS_WH TO ROLE NEPHOS_READER_ROLE;
GRANT USAGE ON DATABASE NEPHOS TO ROLE NEPHOS_READER_ROLE;
GRANT USAGE ON SCHEMA NEPHOS.PUBLIC TO ROLE NEPHOS_READER_ROLE;
GRANT SELECT ON FUTURE TABLES IN SCHEMA NEPHOS.PUBLIC TO ROLE NEPHOS_READER_ROLE;
GRANT SELECT ON ALL TABLES IN SCHEMA NEPHOS.PUBLIC TO ROLE NEPHOS_READER_ROLE;

-- Who owns the tables and views: NEPHOS_PIPELINE_ROLE. The pipeline creates them on first run
-- and re-creates the rollup views (CREATE OR REPLACE VIEW needs ownership). A DBA who prefers
-- to create them runs sql/ddl and sql/views *as that role*:
--   USE ROLE NEPHOS_PIPELINE_ROLE; USE SCHEMA NEPHOS.PUBLIC;  -- then the files, in order
-- or hands over what they created:
--   GRANT OWNERSHIP ON ALL TABLES IN SCHEMA NEPHOS.PUBLIC TO ROLE NEPHOS_PIPELINE_ROLE COPY CURRENT GRANTS;
--   GRANT OWNERSHIP ON ALL VIEWS IN SCHEMA NEPHOS.PUBLIC TO ROLE NEPHOS_PIPELINE_ROLE COPY CURRENT GRANTS;
--   GRANT OWNERSHIP ON STAGE NEPHOS.PUBLIC.NEPHOS_LOAD_STAGE TO ROLE NEPHOS_PIPELINE_ROLE;

-- Service users authenticate with a key pair (ALTER USER ... SET RSA_PUBLIC_KEY = '...').
CREATE USER IF NOT EXISTS NEPHOS_PIPELINE
  DEFAULT_ROLE = NEPHOS_PIPELINE_ROLE
  DEFAULT_WAREHOUSE = NEPHOS_WH
  COMMENT = 'Nephos batch layer (Dagster)';
CREATE USER IF NOT EXISTS NEPHOS_API
  DEFAULT_ROLE = NEPHOS_READER_ROLE
  DEFAULT_WAREHOUSE = NEPHOS_WH
  COMMENT = 'Nephos insights API (read-only)';
GRANT ROLE NEPHOS_PIPELINE_ROLE TO USER NEPHOS_PIPELINE;
GRANT ROLE NEPHOS_READER_ROLE TO USER NEPHOS_API;
