"""No configured secret value appears anywhere a person or a log collector could read it.

Fake values are set for every secret the pipeline knows (Snowflake password and key-pair
passphrase, AWS secret key, API token, LLM API key). Then everything observable is scanned
for them: the code location's snapshot (what the Dagster UI shows: resource config and
every job's run config), the event log, run config and tags of real runs, the captured
compute logs, Python logging at DEBUG, stdout/stderr, asset metadata, step-failure errors
(with their causes) and the warehouse's connection errors, and the API's answers.
Key-pair authentication is checked down to the connection arguments handed to the
Snowflake connector.
"""

from __future__ import annotations

import json
import logging
import os
import re
import traceback
from pathlib import Path

import dagster as dg
import pytest
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value

from nephos_pipeline.api import create_app
from nephos_pipeline.cli.serve import RedactTokenFilter
from nephos_pipeline.definitions import build_definitions
from nephos_pipeline.resources import build_resources, build_warehouse
from nephos_pipeline.warehouse import WarehouseUnavailable
from nephos_pipeline_tests.api.conftest import call
from nephos_pipeline_tests.helpers import dynamodb_resource, put_instance, put_metric
from nephos_pipeline_tests.reliability.common import H0, KEY, materialize
from nephos_pipeline_tests.reliability.faults import FakeLLM

SECRETS = {
    "SNOWFLAKE_PASSWORD": "sf-pw-5ecret-a1b2c3",
    "SNOWFLAKE_PRIVATE_KEY_PASSWORD": "pk-pass-5ecret-d4e5f6",
    "AWS_SECRET_ACCESS_KEY": "aws-5ecret-g7h8i9j0k1l2m3n4o5p6q7r8s9t0",
    "NEPHOS_API_TOKEN": "api-token-5ecret-u1v2w3",
    "NEPHOS_LLM_API_KEY": "llm-key-5ecret-x4y5z6",
}


def leaks(text: str, secrets: dict[str, str] = SECRETS) -> list[str]:
    return [name for name, value in secrets.items() if value in text]


def snowflake_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"NEPHOS_WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "nephos-test-account", "SNOWFLAKE_USER": "NEPHOS_PIPELINE",
           "SNOWFLAKE_ROLE": "NEPHOS_PIPELINE_ROLE", "SNOWFLAKE_WAREHOUSE": "NEPHOS_WH", "NEPHOS_HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": SECRETS["AWS_SECRET_ACCESS_KEY"],
           "NEPHOS_API_TOKEN": SECRETS["NEPHOS_API_TOKEN"], "NEPHOS_LLM": "openai",
           "NEPHOS_LLM_BASE_URL": "http://127.0.0.1:9/v1", "NEPHOS_LLM_API_KEY": SECRETS["NEPHOS_LLM_API_KEY"], **extra}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def dead_snowflake(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The real connector, but aimed at a closed loopback port (no DNS, no network), fast."""
    seen: list[dict] = []
    original = snowflake.connector.connect

    def connect(**kwargs):  # noqa: ANN202
        seen.append(kwargs)
        return original(**{**kwargs, "host": "127.0.0.1", "port": 9, "protocol": "http", "login_timeout": 2,
                           "ocsp_fail_open": True})

    monkeypatch.setattr(snowflake.connector, "connect", connect)
    return seen


def private_key_file(tmp_path: Path, passphrase: str) -> tuple[Path, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(passphrase.encode()))
    path = tmp_path / "rsa_key.p8"
    path.write_bytes(pem)
    return path, key


def test_ui_snapshot_and_run_config_hold_env_var_names_not_values(monkeypatch, tmp_path) -> None:
    snowflake_env(monkeypatch, tmp_path, SNOWFLAKE_PASSWORD=SECRETS["SNOWFLAKE_PASSWORD"])
    defs = build_definitions()
    repo = defs.get_repository_def()
    snapshot = serialize_value(RepositorySnap.from_def(repo))  # what the webserver gets from the code location
    assert leaks(snapshot) == []
    assert '"ExternalResourceConfigEnvVar", "name": "NEPHOS_LLM_API_KEY"' in snapshot  # the UI shows the name
    for name in ("SNOWFLAKE_PASSWORD", "SNOWFLAKE_ACCOUNT"):
        assert name in snapshot
    for job in repo.get_all_jobs():  # job snapshots: the config schema and defaults the Launchpad pre-fills
        assert leaks(serialize_value(job.get_job_snapshot())) == []
    warehouse, narrator = defs.resources["warehouse"], defs.resources["narrator"]
    assert leaks(repr(warehouse) + str(warehouse) + repr(narrator) + str(narrator)) == []
    with warehouse.process_config_and_initialize_cm() as live:  # resolved at run time: values present...
        assert live.snowflake._connection_args["password"] == SECRETS["SNOWFLAKE_PASSWORD"]
        assert leaks(repr(live) + str(live) + live.describe()) == []  # ...but never printed


def test_runs_leave_no_secret_in_event_log_compute_logs_python_logs_or_errors(
        monkeypatch, tmp_path, dynamodb_tables, fault_proxy, fast_backoff, caplog, capfd) -> None:
    t = dynamodb_tables
    llm = FakeLLM()
    try:
        env = {"NEPHOS_HOME": str(tmp_path / "home"), "NEPHOS_DYNAMODB_ENDPOINT_URL": fault_proxy.endpoint_url,
               **{k: v for k, v in t.env().items() if k not in ("NEPHOS_DYNAMODB_ENDPOINT_URL",)},
               "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": SECRETS["AWS_SECRET_ACCESS_KEY"],
               "NEPHOS_LLM": "openai", "NEPHOS_LLM_BASE_URL": llm.url("http401"),
               "NEPHOS_LLM_API_KEY": SECRETS["NEPHOS_LLM_API_KEY"], "NEPHOS_API_TOKEN": SECRETS["NEPHOS_API_TOKEN"],
               "NEPHOS_AUTOMATION": "stopped"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        put_instance(t.client, t.names, "web-01")
        put_metric(t.client, t.names, "web-01", H0, cpu_usage=5)
        put_metric(t.client, t.names, "web-01", 1_700_000_000, cpu_usage=6)  # epoch seconds: read by the reconciliation
        caplog.set_level(logging.DEBUG)
        (tmp_path / "dagster").mkdir()
        instance = dg.DagsterInstance.local_temp(tempdir=str(tmp_path / "dagster"))
        defs = build_definitions()
        ok = [defs.resolve_job_def("sync_hourly_job").execute_in_process(instance=instance, partition_key=KEY),
              defs.resolve_job_def("sync_instances_job").execute_in_process(instance=instance),
              defs.resolve_job_def("prediction_job").execute_in_process(instance=instance,
                                                                    partition_key="2026-03-01-06:00")]
        assert all(r.success for r in ok)
        assert llm.requests and llm.requests[-1] == "http401"  # the narrator did call (and was refused)
        fault_proxy.cut()  # DynamoDB goes away: a failing run, with its error and cause chain
        failed = defs.resolve_job_def("sync_hourly_job").execute_in_process(instance=instance, partition_key=KEY,
                                                                        raise_on_error=False)
        assert not failed.success
    finally:
        llm.close()

    observed = []
    for run in instance.get_runs():
        observed.append(json.dumps(run.run_config, default=str) + json.dumps(run.tags, default=str))
        observed += [serialize_value(entry) for entry in instance.all_logs(run.run_id)]
    files = [p for p in (tmp_path / "dagster").rglob("*") if p.is_file() and p.stat().st_size < 50_000_000]
    observed += [p.read_bytes().decode("utf-8", "replace") for p in files]
    assert any(p.suffix == ".err" for p in files) and any(p.suffix == ".out" for p in files)  # compute logs
    out, err = capfd.readouterr()
    observed += [caplog.text, out, err]
    assert any("STEP_FAILURE" in text or "step_failure" in text.lower() for text in observed)
    assert {name: [i for i, text in enumerate(observed) if name in leaks(text)] for name in SECRETS} == {
        name: [] for name in SECRETS}


@pytest.mark.parametrize("auth", ["password", "key_pair"])
def test_snowflake_connection_errors_name_no_secret(monkeypatch, tmp_path, dead_snowflake, caplog, capfd,
                                                    auth: str) -> None:
    extra = {"SNOWFLAKE_PASSWORD": SECRETS["SNOWFLAKE_PASSWORD"]}
    if auth == "key_pair":
        path, _key = private_key_file(tmp_path, SECRETS["SNOWFLAKE_PRIVATE_KEY_PASSWORD"])
        extra = {"SNOWFLAKE_PRIVATE_KEY_PATH": str(path),
                 "SNOWFLAKE_PRIVATE_KEY_PASSWORD": SECRETS["SNOWFLAKE_PRIVATE_KEY_PASSWORD"]}
    env = snowflake_env(monkeypatch, tmp_path, **extra)
    caplog.set_level(logging.DEBUG)
    warehouse = build_warehouse(env)
    with warehouse.process_config_and_initialize_cm() as live, pytest.raises(WarehouseUnavailable) as raised:
        live.query("SELECT 1")
    assert "nephos-test-account" in str(raised.value)  # says where it tried...
    texts = [str(raised.value), "".join(traceback.format_exception(raised.value))]
    # ...and the same failure inside a Dagster run, as the UI would show it
    result = materialize({"warehouse": warehouse, "dynamodb": dynamodb_resource("http://127.0.0.1:9", build_resources(env)[
        "dynamodb"].tables)}, ["raw_instances"], raise_on_error=False)
    assert not result.success
    texts += [serialize_value(e) for e in result.all_events]
    out, err = capfd.readouterr()
    texts += [caplog.text, out, err]
    secrets = dict(SECRETS)
    if auth == "key_pair":
        pem = path.read_text()
        secrets["PEM body"] = pem.splitlines()[3]  # any line of the encrypted key
    assert dead_snowflake, "the connector was never called"
    assert [(i, leaks(text, secrets)) for i, text in enumerate(texts) if leaks(text, secrets)] == []


def test_key_pair_authentication_reaches_the_connector_as_a_key(monkeypatch, tmp_path) -> None:
    path, key = private_key_file(tmp_path, SECRETS["SNOWFLAKE_PRIVATE_KEY_PASSWORD"])
    env = snowflake_env(monkeypatch, tmp_path, SNOWFLAKE_PRIVATE_KEY_PATH=str(path),
                        SNOWFLAKE_PRIVATE_KEY_PASSWORD=SECRETS["SNOWFLAKE_PRIVATE_KEY_PASSWORD"])
    warehouse = build_warehouse(env)
    with warehouse.process_config_and_initialize_cm() as live:
        args = live.snowflake._connection_args
    assert "password" not in args and "private_key_path" not in args and "private_key_password" not in args
    loaded = serialization.load_der_private_key(args["private_key"], password=None)  # decrypted DER, in memory
    assert loaded.public_key().public_numbers() == key.public_key().public_numbers()
    assert args["user"] == "NEPHOS_PIPELINE" and args["role"] == "NEPHOS_PIPELINE_ROLE"
    assert leaks(json.dumps({k: v for k, v in args.items() if k != "private_key"}, default=str)) == []


def test_api_never_echoes_its_token(warehouse) -> None:
    token = SECRETS["NEPHOS_API_TOKEN"]
    app = create_app(warehouse, token=token)
    replies = [call(app, "/insights", auth=False), call(app, "/insights", auth=False, headers={"Authorization": "Bearer nope"}),
               call(app, "/insights", auth=False, headers={"Authorization": f"Bearer {token}"}),
               call(app, f"/?token={token}", auth=False), call(app, "/?token=wrong", auth=False)]
    assert [r.status for r in replies][:3] == [401, 401, 200] and replies[3].status == 303
    for reply in replies:
        assert leaks(reply.text + json.dumps(reply.raw_headers)) == []
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s"', (
        "127.0.0.1", "GET", f"/?token={token}"), None)
    RedactTokenFilter().filter(record)
    assert leaks(record.getMessage()) == []


@pytest.mark.snowflake
@pytest.mark.skipif(not os.environ.get("SNOWFLAKE_ACCOUNT"), reason="needs SNOWFLAKE_ACCOUNT (and credentials)")
def test_real_snowflake_connection_with_the_configured_authentication() -> None:
    """Against a real account: password or key pair, whichever the environment configures."""
    env = {**os.environ, "NEPHOS_WAREHOUSE": "snowflake"}
    warehouse = build_warehouse(env)
    with warehouse.process_config_and_initialize_cm() as live:
        row = live.query("SELECT CURRENT_USER() AS u, CURRENT_ROLE() AS r")
    assert len(row) == 1


def test_iam_policy_in_docs_is_exactly_what_the_pipeline_calls(dynamodb_tables, warehouse, fault_proxy) -> None:
    """Every DynamoDB operation of a full sync, a sensor tick and a reconciliation, seen on the
    wire, against the policy JSON published in docs/iam-and-grants.md: nothing missing, nothing extra."""
    from nephos_pipeline import tables as registry
    from nephos_pipeline.orchestration.change_sensor import build_dynamodb_change_sensor
    from nephos_pipeline.orchestration.schedules import build_jobs
    from nephos_pipeline.partitions import Partitions
    from nephos_pipeline.settings import TableNames
    from nephos_pipeline_tests.helpers import put_alert
    from nephos_pipeline_tests.reconcile.common import reconcile
    from nephos_pipeline_tests.reliability.common import sync_hour, sync_instances

    doc = (Path(__file__).resolve().parents[2] / "docs" / "iam-and-grants.md").read_text()
    policy = json.loads(re.search(r"```json\n(.*?)\n```", doc, re.S).group(1))
    granted = {action for stmt in policy["Statement"] for action in stmt["Action"]}
    t = dynamodb_tables
    put_instance(t.client, t.names, "web-01")
    put_metric(t.client, t.names, "web-01", H0, cpu_usage=5)
    put_metric(t.client, t.names, "web-01", 1_700_000_000, cpu_usage=6)  # epoch seconds: found by the reconciliation
    put_alert(t.client, t.names, "al-1", "web-01", H0)
    res = {"warehouse": warehouse, "dynamodb": dynamodb_resource(fault_proxy.endpoint_url, t.names)}
    assert sync_hour(res).success and sync_instances(res).success
    parts = Partitions.build()
    jobs = build_jobs(parts)
    sensor = build_dynamodb_change_sensor(jobs["sync_hourly_job"], jobs["sync_instances_job"], parts)
    sensor(dg.build_sensor_context(resources={"dynamodb": res["dynamodb"]}))
    assert reconcile(res, H0.strftime("%Y-%m-%d")).success  # keys-only Scan, then BatchGetItem of the stray
    called = {f"dynamodb:{op}" for op, _outcome in fault_proxy.log}
    assert called == granted
    tables = {r for stmt in policy["Statement"] for r in stmt["Resource"]}
    # Every registered table, by its default name (a table added to the registry must be added there too).
    assert {r.split("table/")[1].split("/")[0] for r in tables} == {TableNames().of(n) for n in registry.names()}
