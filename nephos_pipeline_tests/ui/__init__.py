"""The real Dagster UI: ``dagster-webserver`` on loopback, driven through its GraphQL API."""
