"""The Snowflake bill, measured: recorded statements -> a replayed day -> warehouse credits.

No Dagster or connector imports: the input is a list of statements per job run (what a
statement recorder on the production path, or the benchmark's recorder on the local
warehouse, saw), the output is warehouse resumes, billed seconds and credits.
"""
