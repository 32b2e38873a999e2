"""Orchestration: jobs, schedules and sensors that decide when the asset chains run."""
