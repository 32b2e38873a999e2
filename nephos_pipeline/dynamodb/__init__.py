"""Local and production DynamoDB plumbing: table specs, the local moto server, snapshots."""
