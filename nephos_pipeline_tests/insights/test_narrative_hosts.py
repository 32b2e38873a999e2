"""Deployments in anomaly narratives are named by host name, as the title is (issue 13, item 6)."""

from __future__ import annotations

from dataclasses import replace

from nephos_pipeline.insights.narrative import deterministic_narrative
from nephos_pipeline_tests.insights.samples import finding


def _with_instance(instance_id: str, deployed_to: str):
    base = finding("anomaly")
    evidence = dict(base.evidence)
    evidence["context"] = {"deployments": [{"instance_id": deployed_to, "at": "2024-05-01T03:30:00+00:00"}]}
    return replace(base, affected_instances=(instance_id,), subject="prod-web-01", evidence=evidence)


def test_a_deployment_to_the_anomalous_instance_is_named_by_its_host_name() -> None:
    n = deterministic_narrative(_with_instance("i-0773770e8394d82fb", "i-0773770e8394d82fb"))
    assert "Review the deployment to prod-web-01 and roll back" in n.recommendations
    assert "a deployment to prod-web-01 (03:30 UTC)" in n.description
    assert "i-0773770e8394d82fb" not in n.description + n.recommendations + n.title


def test_a_deployment_to_another_instance_keeps_its_id() -> None:
    n = deterministic_narrative(_with_instance("i-0773770e8394d82fb", "i-0fffffffffffffff1"))
    assert "Review the deployment to i-0fffffffffffffff1" in n.recommendations
