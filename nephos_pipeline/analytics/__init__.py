"""Analyses over the warehouse that turn metrics into insights (anomaly detection lives in ``anomaly``)."""
