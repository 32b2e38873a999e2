"""The deployment files agree with each other, with Dagster's schema, and with the code.

Containers cannot run in CI, so this checks what can be checked without them; the live
test (``test_stack.py``) runs the same commands outside containers.
"""

from __future__ import annotations

import re

import pytest
import yaml

from nephos_pipeline.orchestration.freshness import FRESHNESS
from nephos_pipeline.orchestration.pools import POOLS
from nephos_pipeline_tests.deploy import stack

DAGSTER_SERVICES = ("nephos_code", "webserver", "daemon", "init_pools")


def _instance_yaml() -> dict:
    return yaml.safe_load((stack.DEPLOY / "dagster.yaml").read_text())


def _env_vars_read_by_instance() -> set[str]:
    return set(re.findall(r"env:\s*(\w+)", (stack.DEPLOY / "dagster.yaml").read_text()))


def test_compose_has_the_reference_layout():
    services = stack.compose()["services"]
    assert set(services) == {"postgres", *DAGSTER_SERVICES}
    # The code location is the Dockerfile's own command; the other services reuse its image.
    assert services["nephos_code"]["command"] == stack.dockerfile_cmd()
    assert stack.dockerfile_cmd()[:3] == ["dagster", "api", "grpc"]
    image = services["nephos_code"]["image"]
    assert all(services[s]["image"] == image for s in DAGSTER_SERVICES)
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    assert services["init_pools"]["command"][-1] == "nephos_pipeline.orchestration.pools"
    # The daemon starts only after the pools have their limits.
    assert services["daemon"]["depends_on"]["init_pools"]["condition"] == "service_completed_successfully"


def test_compose_env_matches_what_the_instance_reads():
    services = stack.compose()["services"]
    wanted = _env_vars_read_by_instance()
    assert wanted == {"DAGSTER_POSTGRES_HOST", "DAGSTER_POSTGRES_PORT", "DAGSTER_POSTGRES_USER",
                      "DAGSTER_POSTGRES_PASSWORD", "DAGSTER_POSTGRES_DB"}
    for name in DAGSTER_SERVICES:
        env = services[name]["environment"]
        assert wanted <= set(env), (name, wanted - set(env))
        assert env["DAGSTER_POSTGRES_HOST"] == "postgres"
        assert env["DAGSTER_POSTGRES_USER"] == services["postgres"]["environment"]["POSTGRES_USER"]
        assert env["DAGSTER_POSTGRES_DB"] == services["postgres"]["environment"]["POSTGRES_DB"]
        # No secret is written in the file: the password comes from deploy/.env.
        assert env["DAGSTER_POSTGRES_PASSWORD"].startswith("${")
    # Only the code location (where runs execute) gets the warehouse settings and secrets.
    assert services["nephos_code"]["environment"]["NEPHOS_WAREHOUSE"] == "snowflake"
    assert "env_file" in services["nephos_code"] and "env_file" not in services["webserver"]


def test_workspace_points_at_the_code_location_service():
    workspace = yaml.safe_load((stack.DEPLOY / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    cmd = stack.dockerfile_cmd()
    assert entry["grpc_server"]["host"] in stack.compose()["services"]
    assert str(entry["grpc_server"]["port"]) == cmd[cmd.index("-p") + 1]
    assert entry["grpc_server"]["location_name"] == "nephos_pipeline"


def test_dockerfile_puts_instance_and_workspace_in_dagster_home():
    text = (stack.DEPLOY / "Dockerfile").read_text()
    assert f"DAGSTER_HOME={stack.CONTAINER_HOME}" in text
    assert re.search(rf"COPY deploy/dagster.yaml deploy/workspace.yaml {stack.CONTAINER_HOME}/", text)
    services = stack.compose()["services"]
    for name in ("webserver", "daemon"):
        assert f"{stack.CONTAINER_HOME}/workspace.yaml" in services[name]["command"]
    # Compute logs are written by run workers and read by the webserver: one shared volume.
    for name in ("nephos_code", "webserver", "daemon"):
        assert f"dagster_storage:{stack.CONTAINER_HOME}/storage" in services[name]["volumes"]


def test_instance_yaml_is_valid_for_dagster_and_says_what_we_rely_on(tmp_path, monkeypatch):
    from dagster._core.instance.config import dagster_instance_config

    for name in _env_vars_read_by_instance():
        monkeypatch.setenv(name, "5432" if name.endswith("PORT") else "x")
    (tmp_path / "dagster.yaml").write_text((stack.DEPLOY / "dagster.yaml").read_text())
    config, _ = dagster_instance_config(str(tmp_path))
    assert "postgres" in config["storage"]
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["pools"] == {"granularity": "run", "default_limit": 1}
    assert config["run_monitoring"]["enabled"] and config["run_retries"]["enabled"]
    assert config["run_retries"]["max_retries"] >= 1


def test_helm_values_use_the_same_image_command_and_instance_settings():
    values = yaml.safe_load((stack.DEPLOY / "helm" / "values.yaml").read_text())
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert ["dagster", "api", "grpc", *deployment["dagsterApiGrpcArgs"]] == \
        [a for a in stack.dockerfile_cmd() if a not in ("-h", "0.0.0.0", "-p", "4000")]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False
    instance = _instance_yaml()
    daemon = values["dagsterDaemon"]
    assert daemon["runCoordinator"]["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] == \
        instance["concurrency"]["runs"]["max_concurrent_runs"]
    assert daemon["runRetries"]["maxRetries"] == instance["run_retries"]["max_retries"]
    assert values["additionalInstanceConfig"]["concurrency"]["pools"] == instance["concurrency"]["pools"]
    # Secrets never live in values: only Secret names.
    assert not re.search(r"(?i)password:\s*\S", (stack.DEPLOY / "helm" / "values.yaml").read_text())


@pytest.fixture
def defs(tmp_path, monkeypatch):
    monkeypatch.setenv("NEPHOS_HOME", str(tmp_path))
    from nephos_pipeline.definitions import build_definitions

    return build_definitions()


def test_every_asset_has_its_pool_and_insights_have_freshness(defs):
    graph = defs.resolve_asset_graph()
    seen = {}
    for key in graph.get_all_asset_keys():
        assets_def = graph.assets_def_for_key(key)
        name = key.to_user_string()
        pools = {node.pool for node in [assets_def.node_def]} if hasattr(assets_def.node_def, "pool") else set()
        seen[name] = pools
        assert pools == {POOLS[name]}, (name, pools)
        spec = next(s for s in assets_def.specs if s.key == key)
        assert (spec.freshness_policy is not None) == (name in FRESHNESS), name
    assert set(seen) == set(POOLS)
    # The sync pair and the insights share no pool: they may run side by side.
    sync = {POOLS[a] for a in ("raw_metrics", "metrics", "raw_alerts", "alerts")}
    insights = {POOLS[a] for a in FRESHNESS}
    assert not sync & insights and insights == {"nephos_ai_insights"}
