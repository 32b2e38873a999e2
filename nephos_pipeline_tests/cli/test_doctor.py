"""``nephos doctor`` against the real local parts, healthy and broken."""

from __future__ import annotations

from nephos_pipeline.cli.main import main


def test_doctor_passes_on_a_healthy_local_stack(dynamodb_tables, tmp_path, monkeypatch, capsys):
    for key, value in dynamodb_tables.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NEPHOS_HOME", str(tmp_path))
    monkeypatch.setenv("NEPHOS_WAREHOUSE", "local")
    monkeypatch.delenv("NEPHOS_LLM", raising=False)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "can create and MERGE" in out and "stream NEW_AND_OLD_IMAGES" in out
    assert "model deterministic" in out and "5 passed, 0 failed" in out


def test_doctor_names_what_is_wrong(dynamodb_tables, tmp_path, monkeypatch, capsys):
    for key, value in dynamodb_tables.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NEPHOS_METRICS_TABLE", "no-such-table")
    monkeypatch.setenv("NEPHOS_HOME", str(tmp_path))
    monkeypatch.setenv("NEPHOS_LLM", "openai")
    monkeypatch.setenv("NEPHOS_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  table no-such-table" in out and "ResourceNotFoundException" in out
    assert "FAIL  tiny completion" in out
